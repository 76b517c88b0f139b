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
  /**
   * How many events this entry stands for: 1, or more for events merged into one entry
   * (consecutive acks of one memory; `at` and `text` are the latest one's).
   */
  readonly count: number
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

  /** Records an event, the newest. */
  add(kind: TimelineKind, text: string, memory: string | null = null): TimelineEvent {
    const event = frozenEvent(this.#nextId++, kind, memory, text, 1)
    this.#events.push(event)
    // Amortised O(1): trim in batches rather than shifting on every event.
    if (this.#events.length > TIMELINE_LIMIT * 1.2)
      this.#events.splice(0, this.#events.length - TIMELINE_LIMIT)
    this.#snapshot = null
    return event
  }

  /**
   * As {@link add}, but when the newest event has this kind and memory it is replaced (same
   * id, `count` + 1): acks, one per change, would otherwise push every other event out of
   * the ring within seconds of steady writing.
   */
  merge(kind: TimelineKind, text: string, memory: string | null = null): TimelineEvent {
    const newest = this.#events.at(-1)
    if (newest?.kind !== kind || newest.memory !== memory) return this.add(kind, text, memory)
    const event = frozenEvent(newest.id, kind, memory, text, newest.count + 1)
    this.#events[this.#events.length - 1] = event
    this.#snapshot = null
    return event
  }
}

/** An event made now. One literal for every event (not a spread): one object shape. */
function frozenEvent(
  id: number,
  kind: TimelineKind,
  memory: string | null,
  text: string,
  count: number,
): TimelineEvent {
  return Object.freeze({ id, at: Date.now(), kind, memory, text, count })
}
