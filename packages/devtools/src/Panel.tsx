/**
 * The open panel: a bar (the client's connection and pending count, the offline switch,
 * close), the list of open memories, and the chosen memory beside the timeline.
 */
import type { RememClient } from '@remem/client'
import { type KeyboardEvent, type ReactElement, useState } from 'react'
import { useClientStatus, useInspector } from './hooks.ts'
import { MemoryStatusView, MemoryValue } from './MemoryView.tsx'
import { TimelineView } from './TimelineView.tsx'

export interface PanelProps {
  client: RememClient
  initialMemory: string | undefined
  onClose: () => void
}

export function Panel({ client, initialMemory, onClose }: PanelProps): ReactElement {
  const inspection = useInspector(client)
  const status = useClientStatus(client)
  const [chosen, setChosen] = useState(initialMemory)
  const names = inspection.memories
  const name = chosen !== undefined && names.includes(chosen) ? chosen : names[0]
  const memory = name === undefined ? null : client.memory(name)

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>, index: number): void => {
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0
    if (step === 0 || names.length === 0) return
    event.preventDefault()
    const next = names[(index + step + names.length) % names.length]!
    setChosen(next)
    const tabs =
      event.currentTarget.parentElement?.querySelectorAll<HTMLButtonElement>('[role="tab"]')
    tabs?.[names.indexOf(next)]?.focus()
  }

  return (
    <>
      <div className="bar">
        <span className="title">remem devtools</span>
        <span>
          client: <span data-testid="devtools-client-connection">{status.connection}</span>,{' '}
          <span data-testid="devtools-client-pending">{status.pending}</span> pending
        </span>
        <span className="spacer" />
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={inspection.offline}
          title="Drops this tab's connection and keeps it down (the browser's network is untouched); changes queue up"
          onClick={() => client.inspector.setOffline(!inspection.offline)}
        >
          offline {inspection.offline ? 'on' : 'off'}
        </button>
        <button type="button" className="close" aria-label="close remem devtools" onClick={onClose}>
          ✕
        </button>
      </div>
      <div className="body">
        <div
          className="memories"
          role="tablist"
          aria-label="open memories"
          aria-orientation="vertical"
        >
          {names.map((each, index) => (
            <button
              key={each}
              type="button"
              role="tab"
              data-memory={each}
              aria-selected={each === name}
              tabIndex={each === name ? 0 : -1}
              onClick={() => setChosen(each)}
              onKeyDown={(event) => onTabKey(event, index)}
            >
              {each}
            </button>
          ))}
          {names.length === 0 && <p className="muted">no memory open yet</p>}
        </div>
        <div
          className="main"
          role="tabpanel"
          aria-label={name === undefined ? 'no memory' : `memory ${name}`}
        >
          <div className="col">{memory && <MemoryValue key={memory.name} memory={memory} />}</div>
          <div className="col">
            {memory && <MemoryStatusView key={memory.name} client={client} memory={memory} />}
          </div>
          <div className="col">
            <TimelineView events={inspection.timeline} memory={name ?? null} />
          </div>
        </div>
      </div>
    </>
  )
}
