/**
 * The recent events of a client's connection, newest last, in a bounded ring: what the
 * devtools panel shows as its timeline.
 */

/** What happened. */
export type TimelineKind =
  | 'connecting'
  | 'open'
  | 'auth'
  | 'authOk'
  | 'closed'
  | 'dropped'
  | 'backoff'
  | 'handshake'
  | 'access'
  | 'ack'
  | 'refused'
  | 'offline'
  | 'online'

/** One entry of the timeline. */
export interface TimelineEvent {
  /** Increases by one per event of this client. */
  readonly id: number
  /** When it happened, ms since the epoch. */
  readonly at: number
  readonly kind: TimelineKind
  /** The memory it concerns, or null for the whole connection. */
  readonly memory: string | null
  /** What to show: `closed 4401: the token expired …`, `next attempt in 480 ms`. */
  readonly text: string
}

/** Events kept; older ones fall off. */
export const TIMELINE_LIMIT = 500

export class Timeline {
  readonly #events: TimelineEvent[] = []
  #snapshot: readonly TimelineEvent[] | null = null
  #nextId = 1

  /** Every kept event, oldest first: the same frozen array until the next event. */
  get events(): readonly TimelineEvent[] {
    return (this.#snapshot ??= Object.freeze([...this.#events]))
  }

  add(kind: TimelineKind, text: string, memory: string | null = null): TimelineEvent {
    const event: TimelineEvent = Object.freeze({
      id: this.#nextId++,
      at: Date.now(),
      kind,
      memory,
      text,
    })
    this.#events.push(event)
    // Amortised O(1): trim in batches rather than shifting on every event.
    if (this.#events.length > TIMELINE_LIMIT * 1.2)
      this.#events.splice(0, this.#events.length - TIMELINE_LIMIT)
    this.#snapshot = null
    return event
  }
}
