/** The client's connection events with their times, newest first. */
import type { TimelineEvent } from '@remem/client'
import type { ReactElement } from 'react'
import { formatTime } from './format.ts'

/** Entries shown; the client keeps more. */
const SHOWN = 200

export function TimelineView({
  events,
  memory,
}: {
  events: readonly TimelineEvent[]
  /** Show this memory's events and the connection's; null: all. */
  memory: string | null
}): ReactElement {
  const shown: TimelineEvent[] = []
  for (let index = events.length - 1; index >= 0 && shown.length < SHOWN; index--) {
    const event = events[index]!
    if (memory === null || event.memory === null || event.memory === memory) shown.push(event)
  }
  return (
    <section aria-label="timeline">
      <h3>Timeline</h3>
      <ol className="timeline" data-testid="devtools-timeline">
        {shown.map((event) => (
          <li key={event.id} data-kind={event.kind}>
            <time dateTime={new Date(event.at).toISOString()}>{formatTime(event.at)}</time>
            <span className={`kind ${event.kind}`}>{event.kind}</span>
            <span>
              {event.memory !== null && <span className="muted">{event.memory} </span>}
              {event.text}
              {event.count > 1 && <span className="muted"> ×{event.count}</span>}
            </span>
          </li>
        ))}
      </ol>
    </section>
  )
}
