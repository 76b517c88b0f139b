/**
 * What a client's devtools see: a timeline of connection events (connects, AUTH, close
 * codes, backoff delays, handshakes, ACCESS, acks, refusals), each memory's queue of
 * unacknowledged changes (age, size, whether a refusal holds it back and why), presence,
 * stored bytes, and a switch that takes this client offline without touching the
 * browser's network. `client.inspector`; `@remem/devtools` renders it.
 *
 * It costs next to nothing when unused: sockets report only their own events and the
 * headers of the few frame types above (one byte is read of every other frame).
 */
import type { WebSocketConstructor } from '../connection/Connection.ts'
import type { NetworkMonitor } from '../connection/network.ts'
import type { MemorySync } from '../MemorySync.ts'
import type { MemoryStorage, StorageKind } from '../offline/Storage.ts'
import type { Presence, PresenceSnapshot } from '../Presence.ts'
import { type Message, MessageType, errorCodeName } from '../protocol/messages.ts'
import { OfflineSwitch } from './OfflineSwitch.ts'
import { type SocketTap, tapWebSocket } from './tapWebSocket.ts'
import { Timeline, type TimelineEvent } from './Timeline.ts'

export type { TimelineEvent, TimelineKind } from './Timeline.ts'

/** One unacknowledged change of a memory. */
export interface PendingChangeInfo {
  /** Its local sequence number (the relay acknowledges up to a seq). */
  readonly seq: number
  /** Size of the Yjs update, in bytes. */
  readonly bytes: number
  /** Writes (transactions) it carries: the writes one task makes travel as one change. */
  readonly writes: number
  /** When this client first held it (made it, or loaded it from storage), ms since the epoch. */
  readonly since: number
  /**
   * The relay's reason when a refusal holds it back (`forbidden: …`), else null. The relay
   * never acknowledges past a refused update, so the changes after it wait too.
   */
  readonly refused: string | null
}

/** The inspector's state at one moment; a new frozen object after every change. */
export interface InspectorSnapshot {
  readonly timeline: readonly TimelineEvent[]
  /** Whether the offline switch holds the client offline. */
  readonly offline: boolean
  /** Names of the memories opened through the client, in opening order. */
  readonly memories: readonly string[]
}

interface Watched {
  sync: MemorySync
  /** Highest seq sent in an UPDATE since the last handshake. */
  sentSeq: number
  /** Refusals since the last handshake: every change up to `uptoSeq` was sent before it. */
  refusals: Array<{ uptoSeq: number; reason: string }>
}

export class ClientInspector {
  readonly #timeline = new Timeline()
  readonly #watched = new Map<string, Watched>()
  readonly #listeners = new Set<() => void>()
  #switch: OfflineSwitch | null = null
  #snapshot: InspectorSnapshot | null = null
  #openStorage: ((name: string) => MemoryStorage) | null = null
  #storageKind: () => StorageKind = () => 'memory'

  /**
   * The timeline, offline switch and memory names; the same object until something changes
   * (for `useSyncExternalStore`).
   */
  getSnapshot = (): InspectorSnapshot =>
    (this.#snapshot ??= Object.freeze({
      timeline: this.#timeline.events,
      offline: this.#switch?.forced ?? false,
      memories: Object.freeze([...this.#watched.keys()]),
    }))

  /** Calls `listener` after every change of {@link getSnapshot}. Returns the unsubscribe. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Whether the offline switch holds the client offline. */
  get offline(): boolean {
    return this.#switch?.forced ?? false
  }

  /**
   * Takes this client offline (`true`: the socket is dropped and no attempt is made; local
   * changes queue up) or back (`false`: it connects at once). The browser's network and
   * other clients are untouched.
   */
  setOffline(offline: boolean): void {
    if (!this.#switch || this.#switch.forced === offline) return
    this.#record(
      offline ? 'offline' : 'online',
      offline ? 'offline switch on' : 'offline switch off',
    )
    this.#switch.set(offline)
  }

  /** The unacknowledged changes of memory `name`, oldest first (empty for an unknown name). */
  pending(name: string): readonly PendingChangeInfo[] {
    const watched = this.#watched.get(name)
    if (!watched) return []
    return watched.sync.pendingChanges.map(({ seq, update, since, writes }) => {
      const refusal = watched.refusals.find((entry) => entry.uptoSeq >= seq)
      return { seq, bytes: update.byteLength, writes, since, refused: refusal?.reason ?? null }
    })
  }

  /** The presence of memory `name` if the app opened it (opening it here would announce this tab), else null. */
  presence(name: string): PresenceSnapshot | null {
    const presence = this.#watched.get(name)?.sync.attachedPresence as Presence | null | undefined
    return presence ? presence.getSnapshot() : null
  }

  /** Calls `listener` when the presence of memory `name` changes. Returns the unsubscribe. */
  subscribePresence(name: string, listener: () => void): () => void {
    const presence = this.#watched.get(name)?.sync.attachedPresence as Presence | null | undefined
    return presence ? presence.subscribe(listener) : () => {}
  }

  /**
   * Bytes memory `name` takes in IndexedDB (its stored document and every queued change),
   * or null when the client keeps it in memory only.
   */
  async storedBytes(name: string): Promise<number | null> {
    if (this.#storageKind() !== 'indexeddb' || !this.#openStorage || !this.#watched.has(name))
      return null
    const stored = await this.#openStorage(name).load()
    let bytes = stored.doc?.byteLength ?? 0
    for (const entry of stored.pending) bytes += entry.update.byteLength
    return bytes
  }

  /** @internal Sockets of `Impl` report to this inspector. */
  wrapWebSocket(Impl: WebSocketConstructor): WebSocketConstructor {
    return tapWebSocket(Impl, this.#tap)
  }

  /** @internal The network as the connection sees it: the platform's, behind the offline switch. */
  wrapNetwork(platform: NetworkMonitor): NetworkMonitor {
    return (this.#switch = new OfflineSwitch(platform))
  }

  /** @internal The connection's reconnect delays. */
  readonly onBackoff = (delayMs: number): void => {
    const why = this.offline ? ' (offline switch on)' : ''
    this.#record('backoff', `next attempt in ${Math.round(delayMs)} ms${why}`)
  }

  /** @internal How to read stored memories, for {@link storedBytes}. */
  useStorage(open: (name: string) => MemoryStorage, kind: () => StorageKind): void {
    this.#openStorage = open
    this.#storageKind = kind
  }

  /** @internal Follows a memory opened through the client. */
  track(sync: MemorySync): void {
    const watched: Watched = { sync, sentSeq: 0, refusals: [] }
    this.#watched.set(sync.name, watched)
    this.#changed()
  }

  readonly #tap: SocketTap = {
    connecting: (url) => this.#record('connecting', `connecting to ${url}`),
    opened: () => this.#record('open', 'socket open'),
    closed: (code, reason) =>
      this.#record('closed', `closed ${code}${reason ? `: ${reason}` : ''}`),
    dropped: () =>
      this.#record(
        'dropped',
        this.offline
          ? 'dropped the socket (offline switch)'
          : 'dropped the socket (no answer in time, or the network went away)',
      ),
    sent: (message) => this.#sent(message),
    received: (message) => this.#received(message),
  }

  #sent(message: Message): void {
    if (message.type === MessageType.auth) return this.#record('auth', 'sent AUTH with the token')
    const watched = this.#watched.get(message.name)
    if (!watched) return
    if (message.type === MessageType.update) {
      // Not on the timeline: one per change would bury everything else; acks say it.
      watched.sentSeq = Math.max(watched.sentSeq, message.seq)
    } else if (message.type === MessageType.sync) {
      // A new handshake: refusals of the last one no longer hold anything back.
      watched.sentSeq = 0
      watched.refusals = []
      this.#record('handshake', 'SYNC step 1 (handshake)', message.name)
    }
  }

  #received(message: Message): void {
    if (message.type === MessageType.authOk) {
      this.#record('authOk', 'token accepted (AUTH_OK)')
    } else if (message.type === MessageType.access) {
      this.#record('access', `access: ${message.access}`, message.name)
    } else if (message.type === MessageType.ack) {
      // One entry for a run of acks of one memory (`count`), not one per change.
      this.#timeline.merge('ack', `ack up to seq ${message.seq}`, message.name)
      this.#changed()
    } else if (message.type === MessageType.error) {
      const reason = `${errorCodeName(message.code)}: ${message.message}`
      const watched = this.#watched.get(message.name)
      if (watched && watched.sentSeq > 0) {
        watched.refusals.push({ uptoSeq: watched.sentSeq, reason })
        if (watched.refusals.length > 20) watched.refusals.shift()
      }
      this.#record('refused', reason, message.name)
    }
  }

  #record(kind: TimelineEvent['kind'], text: string, memory: string | null = null): void {
    this.#timeline.add(kind, text, memory)
    this.#changed()
  }

  #changed(): void {
    this.#snapshot = null
    if (this.#listeners.size > 0) for (const listener of [...this.#listeners]) listener()
  }
}
