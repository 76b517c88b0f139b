import { RememProvider, useSharedMemory, useSyncStatus } from '@remem/react'

interface Board {
  title?: string
  todos?: Array<{ text: string; done: boolean }>
}

function TodoBoard() {
  // A live object: reads are tracked, so this re-renders only when what it read changes.
  const board = useSharedMemory<Board>('board')
  const { connection, pending } = useSyncStatus('board')
  return (
    <section>
      <h1>{board.title ?? 'Untitled'}</h1>
      <ul>
        {(board.todos ?? []).map((todo, i) => (
          <li key={i} onClick={() => (board.todos![i]!.done = !todo.done)}>
            {todo.done ? '✓ ' : ''}
            {todo.text}
          </li>
        ))}
      </ul>
      <button onClick={() => (board.todos = [...(board.todos ?? []), { text: 'new task', done: false }])}>
        Add
      </button>
      <footer>
        {connection}, {pending} pending
      </footer>
    </section>
  )
}

export function App({ url = 'ws://127.0.0.1:8787' }: { url?: string }) {
  return (
    <RememProvider url={url}>
      <TodoBoard />
    </RememProvider>
  )
}
