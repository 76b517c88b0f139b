/**
 * Presence and client-id ownership of one memory shared with the other relays that hold it,
 * so that users on relay A see users on relay B, and a connection on relay B cannot write as
 * a client id a connection on relay A declared (docs/PROTOCOL.md, "Client ids"). What this relay's sessions announce (and their removals, when a tab
 * closes) is published on the memory's presence channel; what other relays publish is applied
 * to the room's awareness as coming from one stand-in session per relay, and fanned out to the
 * local sessions. A relay that loads the memory says hello, and the others answer with their
 * current states. Every relay republishes its states every `refreshMs`; the states of a relay
 * not heard from for three rounds (it crashed) are removed, as when a tab closes.
 *
 * Declarations are shared the same way: each other relay's owned ids are declared in the
 * room's ClientIdOwners by a stand-in per id, released when that relay releases them or goes
 * silent. A hostile write racing an honest declaration on another relay can pass within the
 * pub/sub latency (about a millisecond); after that it is refused as on one relay.
 *
 * Messages: `<relayId>|<kind>|<body>`: `u` states (an awareness update), `h` hello,
 * `o` owned ids and `x` released ids (JSON `[[clientId, clock], …]`).
 */
import type { AwarenessEntry, AwarenessSession, RoomAwareness } from './RoomAwareness.ts'
import { encodeAwarenessUpdate } from './RoomAwareness.ts'
import type { ClientIdOwners } from './limits/ClientIdOwners.ts'
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
  /** The stand-in owner of each client id that relay's connections declared. */
  readonly owners: Map<number, object>
}

type Kind = 'u' | 'h' | 'o' | 'x'

export class PresenceLink {
  private readonly remotes = new Map<string, RemoteRelay>()
  private unsubscribe: (() => Promise<void>) | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private closed = false

  private readonly standIns = new WeakSet<object>()

  constructor(
    private readonly awareness: RoomAwareness<AwarenessSession>,
    private readonly bus: PresenceBus,
    private readonly name: string,
    private readonly relayId: string,
    private readonly logger: Logger,
    private readonly refreshMs = PRESENCE_REFRESH_MS,
    private readonly owners: ClientIdOwners<object> | null = null,
  ) {
    awareness.onChange = (entries, from) => {
      if (!this.isRemote(from)) this.send('u', encodeAwarenessUpdate(entries))
    }
    if (owners) {
      owners.observer = {
        declared: (session, clientId, clock) => {
          if (!this.standIns.has(session)) this.sendIds('o', [[clientId, clock]])
        },
        released: (session, clientId) => {
          if (!this.standIns.has(session)) this.sendIds('x', [[clientId, 0]])
        },
      }
    }
  }

  /** A link for `awareness` when `store` shares presence among relays (`store.presence`), else null. */
  static attach(
    awareness: RoomAwareness<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- any session type
    store: Store,
    name: string,
    relayId: string,
    logger: Logger,
    owners: ClientIdOwners<any> | null = null, // eslint-disable-line @typescript-eslint/no-explicit-any -- any session type
  ): PresenceLink | null {
    const bus = store.presence
    if (!bus) return null
    const session = awareness as unknown as RoomAwareness<AwarenessSession>
    return new PresenceLink(session, bus, name, relayId, logger, PRESENCE_REFRESH_MS, owners as ClientIdOwners<object> | null)
  }

  /** Subscribes, says hello, and starts the refresh; presence stays local if that fails. */
  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.bus.subscribe(this.name, (message) => this.receive(message))
    } catch (error) {
      this.logger.warn('presence not shared with other relays', { memory: this.name, error: String(error) })
      return
    }
    this.send('h', new Uint8Array())
    this.timer = setInterval(() => this.refresh(), this.refreshMs)
    this.timer.unref()
  }

  private isRemote(session: AwarenessSession): boolean {
    return this.remotes.get((session as Partial<RemoteRelay>).relayId ?? '') === session
  }

  private localStates(): AwarenessEntry[] {
    return this.awareness.states((session) => !this.isRemote(session))
  }

  private localIds(): Array<[number, number]> {
    return (this.owners?.owned((session) => !this.standIns.has(session)) ?? []).map(({ clientId, clock }) => [clientId, clock])
  }

  private sendIds(kind: 'o' | 'x', ids: Array<[number, number]>): void {
    if (ids.length > 0) this.send(kind, Buffer.from(JSON.stringify(ids)))
  }

  private send(kind: Kind, body: Uint8Array): void {
    if (this.closed) return
    const message = Buffer.concat([Buffer.from(`${this.relayId}|${kind}|`), body])
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
      remote = { relayId: origin, lastHeard: 0, send: () => undefined, owners: new Map() }
      this.remotes.set(origin, remote)
    }
    remote.lastHeard = Date.now()
    if (kind === 'h') {
      this.sendLocal()
      return
    }
    if (kind === 'o' || kind === 'x') {
      this.applyIds(remote, kind, message.subarray(second + 1))
      return
    }
    const refusal = this.awareness.apply(remote, message.subarray(second + 1), Infinity)
    if (refusal) this.logger.warn('presence from another relay refused', { memory: this.name, refusal })
  }

  /** Publishes this relay's states and owned ids. */
  private sendLocal(): void {
    const states = this.localStates()
    if (states.length > 0) this.send('u', encodeAwarenessUpdate(states))
    this.sendIds('o', this.localIds())
  }

  /** Declares (`o`) or releases (`x`) ids for `remote`'s connections. */
  private applyIds(remote: RemoteRelay, kind: 'o' | 'x', body: Uint8Array): void {
    const owners = this.owners
    if (!owners) return
    let ids: Array<[number, number]>
    try {
      ids = JSON.parse(Buffer.from(body).toString('utf8')) as Array<[number, number]>
    } catch {
      return
    }
    for (const [clientId, clock] of ids) {
      let standIn = remote.owners.get(clientId)
      if (kind === 'x') {
        if (standIn) owners.release(standIn)
        remote.owners.delete(clientId)
        continue
      }
      if (!standIn) {
        standIn = { relayId: remote.relayId, clientId }
        this.standIns.add(standIn)
        remote.owners.set(clientId, standIn)
      }
      owners.declare(standIn, clientId, clock)
    }
  }

  private refresh(): void {
    this.sendLocal()
    const expired = Date.now() - EXPIRE_ROUNDS * this.refreshMs
    for (const [relayId, remote] of this.remotes) {
      if (remote.lastHeard >= expired) continue
      // Still known as remote while leaving, so that its removals are not published back.
      this.awareness.leave(remote)
      for (const standIn of remote.owners.values()) this.owners?.release(standIn)
      this.remotes.delete(relayId)
    }
  }

  /** Stops sharing; the other relays drop this relay's states by their removals or expiry. */
  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.awareness.onChange = null
    if (this.owners) this.owners.observer = null
    await this.unsubscribe?.().catch(() => undefined)
  }
}
