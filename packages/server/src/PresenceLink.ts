/**
 * Presence of one memory shared with the other relays that hold it, so that users on relay A
 * see users on relay B. What this relay's sessions announce (and their removals, when a tab
 * closes) is published on the memory's presence channel; what other relays publish is applied
 * to the room's awareness as coming from one stand-in session per relay, and fanned out to the
 * local sessions. A relay that loads the memory says hello, and the others answer with their
 * current states. Every relay republishes its states every `refreshMs`; the states of a relay
 * not heard from for three rounds (it crashed) are removed, as when a tab closes.
 *
 * Messages: `<relayId>|<kind>|<awareness update>`, kind `u` (states) or `h` (hello).
 */
import type { AwarenessEntry, AwarenessSession, RoomAwareness } from './RoomAwareness.ts'
import { encodeAwarenessUpdate } from './RoomAwareness.ts'
import type { Logger } from './logger.ts'
import type { PresenceBus } from './store/PresenceBus.ts'
import type { Store } from './store/Store.ts'

/** How often a relay republishes its presence states. */
export const PRESENCE_REFRESH_MS = 5_000
/** States from another relay are dropped after this long without a message from it. */
const EXPIRE_ROUNDS = 3
const PIPE = 124

/** The stand-in session of another relay in this room's awareness. */
interface RemoteRelay extends AwarenessSession {
  readonly relayId: string
  lastHeard: number
}

export class PresenceLink {
  private readonly remotes = new Map<string, RemoteRelay>()
  private unsubscribe: (() => Promise<void>) | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private closed = false

  constructor(
    private readonly awareness: RoomAwareness<AwarenessSession>,
    private readonly bus: PresenceBus,
    private readonly name: string,
    private readonly relayId: string,
    private readonly logger: Logger,
    private readonly refreshMs = PRESENCE_REFRESH_MS,
  ) {
    awareness.onChange = (entries, from) => {
      if (!this.isRemote(from)) this.send('u', entries)
    }
  }

  /** A link for `awareness` when `store` shares presence among relays (`store.presence`), else null. */
  static attach(
    awareness: RoomAwareness<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- any session type
    store: Store,
    name: string,
    relayId: string,
    logger: Logger,
  ): PresenceLink | null {
    const bus = store.presence
    if (!bus) return null
    return new PresenceLink(awareness as unknown as RoomAwareness<AwarenessSession>, bus, name, relayId, logger)
  }

  /** Subscribes, says hello, and starts the refresh; presence stays local if that fails. */
  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.bus.subscribe(this.name, (message) => this.receive(message))
    } catch (error) {
      this.logger.warn('presence not shared with other relays', { memory: this.name, error: String(error) })
      return
    }
    this.send('h', [])
    this.timer = setInterval(() => this.refresh(), this.refreshMs)
    this.timer.unref()
  }

  private isRemote(session: AwarenessSession): boolean {
    return this.remotes.get((session as Partial<RemoteRelay>).relayId ?? '') === session
  }

  private localStates(): AwarenessEntry[] {
    return this.awareness.states((session) => !this.isRemote(session))
  }

  private send(kind: 'u' | 'h', entries: AwarenessEntry[]): void {
    if (this.closed) return
    const message = Buffer.concat([Buffer.from(`${this.relayId}|${kind}|`), encodeAwarenessUpdate(entries)])
    this.bus.publish(this.name, message).catch((error: unknown) => {
      this.logger.warn('sharing presence with other relays failed', { memory: this.name, error: String(error) })
    })
  }

  private receive(message: Buffer): void {
    const first = message.indexOf(PIPE)
    const second = message.indexOf(PIPE, first + 1)
    if (first < 0 || second !== first + 2 || this.closed) return
    const origin = message.toString('utf8', 0, first)
    if (origin === this.relayId) return
    const kind = String.fromCharCode(message[first + 1]!)
    let remote = this.remotes.get(origin)
    if (!remote) {
      remote = { relayId: origin, lastHeard: 0, send: () => undefined }
      this.remotes.set(origin, remote)
    }
    remote.lastHeard = Date.now()
    if (kind === 'h') {
      const states = this.localStates()
      if (states.length > 0) this.send('u', states)
      return
    }
    const refusal = this.awareness.apply(remote, message.subarray(second + 1), Infinity)
    if (refusal) this.logger.warn('presence from another relay refused', { memory: this.name, refusal })
  }

  private refresh(): void {
    const states = this.localStates()
    if (states.length > 0) this.send('u', states)
    const expired = Date.now() - EXPIRE_ROUNDS * this.refreshMs
    for (const [relayId, remote] of this.remotes) {
      if (remote.lastHeard >= expired) continue
      // Still known as remote while leaving, so that its removals are not published back.
      this.awareness.leave(remote)
      this.remotes.delete(relayId)
    }
  }

  /** Stops sharing; the other relays drop this relay's states by their removals or expiry. */
  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.awareness.onChange = null
    await this.unsubscribe?.().catch(() => undefined)
  }
}
