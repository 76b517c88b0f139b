// Type-checked in the packed-tarball test against the installed @remem/react (see client.ts).
import {
  type PresenceControls,
  RememProvider,
  type RememProviderClientProps,
  type RememProviderProps,
  type RememProviderUrlProps,
  type SyncStatus,
  type UndoControls,
  type UndoState,
  usePresence,
  useRememClient,
  useSharedMemory,
  useSyncStatus,
  useUndo,
} from '@remem/react'
import { type RememClient, createClient } from '@remem/client'

interface Board {
  title?: string
  todos?: Array<{ text: string; done: boolean }>
}

function TodoBoard() {
  const board = useSharedMemory<Board>('board')
  const status: SyncStatus = useSyncStatus('board')
  const undo: UndoControls = useUndo('board')
  const state: UndoState = undo
  const presence: PresenceControls<{ name: string }> = usePresence<{ name: string }>('board')
  const client: RememClient | null = useRememClient()
  return (
    <section>
      <h1 onClick={() => (board.title = 'Renamed')}>{board.title ?? 'Untitled'}</h1>
      <p>
        {status.connection}, {status.pending} pending, {presence.others.length} others
        {client === null ? ' (starting)' : ''}
      </p>
      <button disabled={!state.canUndo} onClick={undo.undo}>
        Undo
      </button>
    </section>
  )
}

const byUrl: RememProviderUrlProps = { url: 'ws://127.0.0.1:8787' }
const byClient: RememProviderClientProps = { client: createClient({ url: 'ws://127.0.0.1:8787' }) }
export const providers: RememProviderProps[] = [byUrl, byClient]

export function App({ url }: { url: string }) {
  return (
    <RememProvider url={url}>
      <TodoBoard />
    </RememProvider>
  )
}
