/**
 * Tells the keyspace events of the relay's own projection writes from other clients' changes,
 * without reading Redis (issue 12, bench/README.md item 3).
 *
 * Keyspace events carry no value, and they arrive on the subscriber connection while the
 * write's reply arrives on the command connection, in either order. So events are matched by
 * a window, not one by one:
 * 1. before a write of a key is sent, a window opens for it: events for that key are held
 *    from then on (none of the write's events can arrive before it was sent);
 * 2. the write's reply says whether the script wrote, hence exactly which events it caused
 *    (`set`, then `expire` with an expiry; `del` for a delete; none when it refused);
 * 3. after the reply, a PING on the subscriber connection returns behind every event Redis
 *    published before it, the write's included (one connection delivers in order).
 * The window then holds the write's events plus any other client's events that came between.
 * Exactly the expected events, in order: they are the write's own, and dropped. Anything else
 * (one more event, another name, a lost connection, no PONG): every held event is delivered,
 * and the relay reads the key as before. An event the relay reads is never wrongly dropped.
 */

/** One key's window: writes in flight, events they caused, events held meanwhile. */
interface Window {
  open: number
  expected: string[]
  held: string[]
  /** The subscriber lost its connection while the window was open. */
  tainted: boolean
}

/** What one write of a key caused, given to {@link OwnWriteEvents.settle}. */
export interface OwnWrite {
  fullKey: string
  /** The keyspace events the write caused, in order (empty: it wrote nothing; null: unknown). */
  events: string[] | null
}

/** The events dropped and delivered after their window (for tests and stats). */
export interface OwnWriteStats {
  skipped: number
  delivered: number
}

export class OwnWriteEvents {
  private readonly windows = new Map<string, Window>()
  /** The subscription is in place (no connection lost since it was made). */
  private active = false
  readonly stats: OwnWriteStats = { skipped: 0, delivered: 0 }

  /**
   * @param deliver passes an event on (to be read and maybe ingested).
   * @param barrier resolves once every event Redis published before it was called has
   *   arrived (a PING on the subscriber connection); false when that is not known.
   */
  constructor(
    private readonly deliver: (fullKey: string, event: string) => void,
    private readonly barrier: () => Promise<boolean>,
  ) {}

  /** Opens a window for each key; call before the writes are sent. */
  open(fullKeys: string[]): void {
    for (const fullKey of fullKeys) {
      const window = this.windows.get(fullKey)
      if (window) window.open++
      else this.windows.set(fullKey, { open: 1, expected: [], held: [], tainted: !this.active })
    }
  }

  /**
   * Records what the writes caused (after their replies) and closes their windows once the
   * barrier returned. `writes` lists every key given to {@link open}; `ok` false (the writes
   * failed, or their outcome is unknown) delivers every held event.
   */
  async settle(writes: OwnWrite[], ok: boolean): Promise<void> {
    for (const { fullKey, events } of writes) {
      const window = this.windows.get(fullKey)
      if (!window) continue
      if (events) window.expected.push(...events)
      if (!ok || !events) window.tainted = true
    }
    const expectsEvents = ok && writes.some((write) => write.events !== null && write.events.length > 0)
    const passed = expectsEvents ? await this.barrier().catch(() => false) : ok
    for (const { fullKey } of writes) this.close(fullKey, passed)
  }

  /** An event from the subscriber: true when it is held by a window (not to deliver now). */
  hold(fullKey: string, event: string): boolean {
    const window = this.windows.get(fullKey)
    if (!window) return false
    window.held.push(event)
    return true
  }

  /** The subscription is in place: windows opened from now on may drop their own events. */
  subscribed(): void {
    this.active = true
  }

  /**
   * The subscriber lost its connection: events may be missing, so no window open now, or
   * opened before {@link subscribed} is called again, drops any.
   */
  connectionLost(): void {
    this.active = false
    for (const window of this.windows.values()) window.tainted = true
  }

  /** Delivers every held event and forgets all windows (the watch stops). */
  clear(): void {
    const windows = [...this.windows]
    this.windows.clear()
    for (const [fullKey, window] of windows) this.flush(fullKey, window)
  }

  private close(fullKey: string, passed: boolean): void {
    const window = this.windows.get(fullKey)
    if (!window) return
    if (!passed) window.tainted = true
    if (--window.open > 0) return
    this.windows.delete(fullKey)
    if (!window.tainted && sameEvents(window.held, window.expected)) {
      this.stats.skipped += window.held.length
      return
    }
    this.flush(fullKey, window)
  }

  private flush(fullKey: string, window: Window): void {
    this.stats.delivered += window.held.length
    for (const event of window.held) this.deliver(fullKey, event)
  }
}

/** Margin under which an expiry counts as maybe past (relay and Redis clocks differ). */
const PAST_MARGIN_MS = 1_000

/**
 * The keyspace events a projection write caused (see `projectScript`): none unless it wrote;
 * null when they are not known for sure. Never more than it caused: a predicted event the
 * write did not cause could match another client's, which would then be dropped.
 */
export function eventsOfWrite(deleted: boolean, expiresAt: number | undefined, wrote: boolean, now = Date.now()): string[] | null {
  if (!wrote) return []
  if (deleted) return ['del']
  // Redis versions differ on a SET whose expiry is already past: not predicted.
  if (expiresAt && expiresAt <= now + PAST_MARGIN_MS) return null
  // A key holding a hash or list is deleted first ('del', 'set'): one event more than
  // predicted, so the window delivers them and the key is read, as before.
  return expiresAt ? ['set', 'expire'] : ['set']
}

function sameEvents(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((event, index) => event === b[index])
}
