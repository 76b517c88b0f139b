/**
 * Keeps one memory's local document in sync with the relay.
 *
 * Every local change gets the next sequence number, goes to storage first (write-ahead),
 * then to the relay as an UPDATE frame. The relay's cumulative ACK(seq) removes every
 * change up to seq from the queue. After each (re)connect the handshake sends the relay
 * exactly what it lacks, tagged with the highest local seq, so resending never duplicates.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { Channel, Connection, ConnectionState } from './connection/Connection.ts'
import { RefusedError } from './errors.ts'
import type { MemoryStorage, PendingUpdate } from './offline/Storage.ts'
import { type Message, MessageType, errorCodeName } from './protocol/messages.ts'

/** Sync state of one memory. */
export interface MemoryStatus {
  /** The relay connection as this memory sees it: 'online' once its handshake is done. */
  readonly connection: ConnectionState
  /** Local changes the relay has not acknowledged as persisted. */
  readonly pending: number
}

/** Origin of changes that came from the relay or from storage (not sent back). */
export const REMOTE_ORIGIN = Symbol('remem.remote')

type Phase = 'closed' | 'handshake' | 'synced'

export class MemorySync implements Channel {
  private pending: PendingUpdate[] = []
  private seq = 0
  private phase: Phase = 'closed'
  private waiters: Array<{ seq: number; resolve: () => void }> = []
  private statusListeners = new Set<() => void>()
  private storageQueue: Promise<void> = Promise.resolve()
  private cachedStatus: MemoryStatus = { connection: 'connecting', pending: 0 }
  private disposed = false
  readonly loaded: Promise<void>

  constructor(
    readonly name: string,
    readonly doc: Y.Doc,
    private readonly connection: Connection,
    private readonly storage: MemoryStorage,
    private readonly onError: (error: Error) => void,
  ) {
    doc.on('update', this.onLocalUpdate)
    this.loaded = this.loadStored()
    this.storageQueue = this.loaded
    this.offConnection = connection.subscribe(() => this.refreshStatus())
    this.refreshStatus()
  }

  private readonly offConnection: () => void

  private async loadStored(): Promise<void> {
    try {
      const stored = await this.storage.load()
      if (this.disposed) return
      Y.transact(
        this.doc,
        () => {
          if (stored.doc) Y.applyUpdate(this.doc, stored.doc, REMOTE_ORIGIN)
          for (const entry of stored.pending) Y.applyUpdate(this.doc, entry.update, REMOTE_ORIGIN)
        },
        REMOTE_ORIGIN,
      )
      // Stored changes are older than anything made since this client started: renumber
      // the new ones after them (their storage writes wait for this load, see constructor).
      const offset = stored.pending.reduce((max, entry) => Math.max(max, entry.seq), 0)
      for (const entry of this.pending) entry.seq += offset
      for (const waiter of this.waiters) waiter.seq += offset
      this.pending = [...stored.pending, ...this.pending]
      this.seq += offset
      this.refreshStatus()
    } catch (error) {
      this.onError(error as Error)
    } finally {
      this.connection.register(this.name, this)
    }
  }

  private readonly onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE_ORIGIN) return
    const entry = { seq: ++this.seq, update }
    this.pending.push(entry)
    this.persist((storage) => storage.append(entry))
    if (this.phase === 'synced') {
      this.connection.send({ type: MessageType.update, name: this.name, seq: entry.seq, update })
    }
    this.refreshStatus()
  }

  private persist(action: (storage: MemoryStorage) => Promise<void>): void {
    this.storageQueue = this.storageQueue
      .then(() => action(this.storage))
      .catch((error: unknown) => this.onError(error as Error))
  }

  onOpen(): void {
    this.phase = 'handshake'
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep1(encoder, this.doc)
    this.connection.send({ type: MessageType.sync, name: this.name, payload: encoding.toUint8Array(encoder) })
    this.refreshStatus()
  }

  onClose(): void {
    this.phase = 'closed'
    this.refreshStatus()
  }

  onMessage(message: Message): void {
    switch (message.type) {
      case MessageType.sync:
        return this.onSync(message.payload)
      case MessageType.ack:
        return this.onAck(message.seq)
      case MessageType.error:
        return this.onError(
          new RefusedError(errorCodeName(message.code), `relay refused a request for memory "${this.name}": ${message.message}`),
        )
      case MessageType.update:
      case MessageType.close:
      case MessageType.awareness:
        return
    }
  }

  private onSync(payload: Uint8Array): void {
    const decoder = decoding.createDecoder(payload)
    const kind = decoding.readVarUint(decoder)
    if (kind === syncProtocol.messageYjsSyncStep1) {
      // The relay's state vector: send what it lacks, covering every pending change.
      const relayVector = decoding.readVarUint8Array(decoder)
      const diff = Y.encodeStateAsUpdate(this.doc, relayVector)
      const hasContent = diff.byteLength > 2
      if (this.pending.length > 0 || hasContent) {
        if (this.pending.length === 0) {
          const entry = { seq: ++this.seq, update: diff }
          this.pending.push(entry)
          this.persist((storage) => storage.append(entry))
        }
        this.connection.send({ type: MessageType.update, name: this.name, seq: this.seq, update: diff })
      }
      this.phase = 'synced'
      this.refreshStatus()
      return
    }
    const update = decoding.readVarUint8Array(decoder)
    Y.applyUpdate(this.doc, update, REMOTE_ORIGIN)
  }

  private onAck(seq: number): void {
    const before = this.pending.length
    this.pending = this.pending.filter((entry) => entry.seq > seq)
    if (this.pending.length !== before) this.persist((storage) => storage.acknowledge(seq))
    const oldest = this.pending[0]?.seq ?? Infinity
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.seq < oldest) waiter.resolve()
      return waiter.seq >= oldest
    })
    this.refreshStatus()
  }

  /** Resolves when every local change made so far is acknowledged by the relay. */
  whenSynced(): Promise<void> {
    const target = this.pending.at(-1)?.seq
    if (target === undefined) return this.storageQueue
    return new Promise((resolve) => this.waiters.push({ seq: target, resolve }))
  }

  get status(): MemoryStatus {
    return this.cachedStatus
  }

  subscribeStatus(listener: () => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  private refreshStatus(): void {
    const connection: ConnectionState =
      this.phase === 'synced' ? 'online' : this.connection.state === 'online' ? 'connecting' : this.connection.state
    const pending = this.pending.length
    if (connection === this.cachedStatus.connection && pending === this.cachedStatus.pending) return
    this.cachedStatus = Object.freeze({ connection, pending })
    for (const listener of this.statusListeners) listener()
  }

  /** Stops syncing; waits for storage writes in flight. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    this.doc.off('update', this.onLocalUpdate)
    this.offConnection()
    this.connection.unregister(this.name)
    if (this.phase !== 'closed') this.connection.send({ type: MessageType.close, name: this.name })
    this.phase = 'closed'
    await this.storageQueue
    await this.storage.close()
  }
}
