/**
 * A memory's value as a collapsible tree (`<details>`: keyboard accessible as it is).
 * A leaf is a button; activating it turns it into a field where Enter writes the typed
 * value (JSON, or plain text) through the memory's views and Escape cancels.
 */
import type { Json, JsonObject } from '@remem/client'
import { type ReactElement, useState } from 'react'
import { type Path, describe, parseInput } from './writeAt.ts'

export interface JsonTreeProps {
  /** The memory's name, the root of every path shown. */
  name: string
  value: JsonObject
  /** Writes `value` at `path`; a throw is shown next to the leaf. */
  onEdit: (path: Path, value: unknown) => void
}

/** Levels open at first; deeper ones start collapsed. */
const OPEN_DEPTH = 3

export function JsonTree({ name, value, onEdit }: JsonTreeProps): ReactElement {
  const keys = Object.keys(value)
  if (keys.length === 0) return <p className="muted">empty</p>
  return (
    <ul className="tree" aria-label={`value of ${name}`}>
      {keys.map((key) => (
        <JsonNode key={key} name={name} path={[key]} value={value[key]!} onEdit={onEdit} />
      ))}
    </ul>
  )
}

interface NodeProps {
  name: string
  path: Path
  value: Json
  onEdit: (path: Path, value: unknown) => void
}

function JsonNode({ name, path, value, onEdit }: NodeProps): ReactElement {
  const label = path[path.length - 1]!
  if (value !== null && typeof value === 'object') {
    const entries: Array<[string | number, Json]> = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value)
    const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`
    return (
      <li>
        <details open={path.length <= OPEN_DEPTH}>
          <summary>
            <span className="key">{label}</span> <span className="muted">{shape}</span>
          </summary>
          <ul>
            {entries.map(([key, item]) => (
              <JsonNode key={key} name={name} path={[...path, key]} value={item} onEdit={onEdit} />
            ))}
          </ul>
        </details>
      </li>
    )
  }
  return (
    <li>
      <span className="key">{label}</span>:{' '}
      <Leaf name={name} path={path} value={value} onEdit={onEdit} />
    </li>
  )
}

function Leaf({ name, path, value, onEdit }: NodeProps): ReactElement {
  const [draft, setDraft] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const text = JSON.stringify(value)
  const where = `${name}: ${describe(path)}`
  if (draft === null) {
    return (
      <>
        <button
          type="button"
          className={`leaf ${value === null ? 'null' : typeof value}`}
          aria-label={`edit ${where}, now ${text}`}
          onClick={() => {
            setError(null)
            setDraft(text)
          }}
        >
          {text}
        </button>
        {error !== null && (
          <span role="alert" className="error">
            {' '}
            {error}
          </span>
        )}
      </>
    )
  }
  const commit = (): void => {
    try {
      onEdit(path, parseInput(draft))
      setError(null)
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught))
    }
    setDraft(null)
  }
  return (
    <input
      className="edit"
      aria-label={`new value of ${where} (JSON or text; Enter writes, Escape cancels)`}
      autoFocus
      value={draft}
      onChange={(event) => setDraft(event.target.value)}
      onBlur={() => setDraft(null)}
      onKeyDown={(event) => {
        if (event.key === 'Enter') commit()
        else if (event.key === 'Escape') setDraft(null)
      }}
    />
  )
}
