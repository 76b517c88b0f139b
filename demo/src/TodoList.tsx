import { useSharedMemory, useUndo } from '@remem/react'
import { useState } from 'react'
import { Avatars } from './Avatars.tsx'

interface Todo {
  id: string
  text: string
  done: boolean
}
type Todos = { items?: Todo[] }

/**
 * Memory `todos`: one list, edited by everyone at once. Concurrent additions all stay;
 * undo and redo revert this tab's own edits only, everywhere.
 */
export function TodoList() {
  const todos = useSharedMemory<Todos>('todos')
  const { undo, redo, canUndo, canRedo } = useUndo('todos')
  const [draft, setDraft] = useState('')
  const items = todos.items ?? []

  const add = (): void => {
    const text = draft.trim()
    if (text === '') return
    const todo: Todo = { id: crypto.randomUUID(), text, done: false }
    if (todos.items) todos.items.push(todo)
    else todos.items = [todo]
    setDraft('')
  }

  return (
    <section className="card">
      <h2>
        Shared todo list <span className="hint">memory “todos”</span>
      </h2>
      <Avatars name="todos" />
      <input
        className="todo-input"
        data-testid="todo-input"
        placeholder="What needs doing? (Enter adds it)"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') add()
        }}
      />
      <ul className="todos">
        {items.map((todo, index) => (
          <li key={todo.id} data-testid="todo-item" className={todo.done ? 'done' : undefined}>
            <input
              type="checkbox"
              data-testid="todo-done"
              aria-label={`done: ${todo.text}`}
              checked={todo.done}
              onChange={(event) => {
                todos.items![index]!.done = event.target.checked
              }}
            />
            <span className="text">{todo.text}</span>
            <button
              type="button"
              className="icon up"
              data-testid="todo-up"
              aria-label={`move up: ${todo.text}`}
              disabled={index === 0}
              onClick={() => move(todos.items!, index, index - 1)}
            />
            <button
              type="button"
              className="icon down"
              data-testid="todo-down"
              aria-label={`move down: ${todo.text}`}
              disabled={index === items.length - 1}
              onClick={() => move(todos.items!, index, index + 1)}
            />
            <button
              type="button"
              className="icon delete"
              data-testid="todo-delete"
              aria-label={`delete: ${todo.text}`}
              onClick={() => todos.items!.splice(index, 1)}
            />
          </li>
        ))}
      </ul>
      {items.length === 0 && <p className="muted">Nothing to do.</p>}
      <div className="toolbar">
        <button type="button" data-testid="todo-undo" disabled={!canUndo} onClick={undo}>
          Undo
        </button>
        <button type="button" data-testid="todo-redo" disabled={!canRedo} onClick={redo}>
          Redo
        </button>
      </div>
    </section>
  )
}

/**
 * Moves a todo in one change (one undo step): lists of `useSharedMemory` forward `move` to
 * the synced list, which plain array types do not know.
 */
function move(list: Todo[], from: number, to: number): void {
  ;(list as Todo[] & { move(from: number, to: number): void }).move(from, to)
}
