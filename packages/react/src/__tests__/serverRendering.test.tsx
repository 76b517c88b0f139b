// @vitest-environment node
import { StrictMode } from 'react'
import { renderToString } from 'react-dom/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { RememProvider, usePresence, useSharedMemory, useSyncStatus, useUndo } from '../index.ts'

type Board = { title?: string; todos?: Array<{ text: string }> }

function App() {
  const board = useSharedMemory<Board>('board')
  const status = useSyncStatus('board')
  const all = useSyncStatus()
  const { canUndo, canRedo } = useUndo('board')
  const presence = usePresence('board')
  return (
    <main>
      <h1>{board.title ?? 'untitled'}</h1>
      <p>{(board.todos ?? []).length} todos</p>
      <pre>{JSON.stringify(board)}</pre>
      <p>{`${status.connection} ${status.pending} ${all.connection} ${all.pending}`}</p>
      <p>{`undo ${String(canUndo)} redo ${String(canRedo)}`}</p>
      <p>{`others ${presence.others.length} self ${JSON.stringify(presence.self)}`}</p>
    </main>
  )
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('server rendering', () => {
  it('renders the initial state in Node without window, connecting nowhere', () => {
    expect(typeof window).toBe('undefined')
    expect(typeof document).toBe('undefined')
    let sockets = 0
    class CountingWebSocket {
      constructor() {
        sockets++
      }
    }
    const errors = vi.spyOn(console, 'error')
    const html = renderToString(
      <StrictMode>
        <RememProvider url="ws://127.0.0.1:9" WebSocket={CountingWebSocket}>
          <App />
        </RememProvider>
      </StrictMode>,
    )
    expect(html).toContain('<h1>untitled</h1>')
    expect(html).toContain('0<!-- --> todos')
    expect(html).toContain('<pre>{}</pre>')
    expect(html).toContain('connecting 0 connecting 0')
    expect(html).toContain('undo false redo false')
    expect(html).toContain('others 0 self null')
    expect(sockets).toBe(0)
    expect(errors).not.toHaveBeenCalled()
  })

  it('throws writes on the server with a message that says where to write', () => {
    let error: unknown
    function Writer() {
      const board = useSharedMemory<Board>('board')
      try {
        board.title = 'x'
      } catch (caught) {
        error = caught
      }
      return null
    }
    renderToString(
      <RememProvider url="ws://127.0.0.1:9">
        <Writer />
      </RememProvider>,
    )
    expect(String(error)).toMatch(
      /useSharedMemory\('board'\) has no client yet .*event handlers or effects/,
    )
  })
})
