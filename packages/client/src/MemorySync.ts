/**
 * Keeps one memory's local document in sync with the relay, with storage and with the
 * other tabs.
 *
 * The local transactions of one task become one change (offline/Burst.ts) as the task ends:
 * it gets the next sequence number, is appended to this client's queue in storage (the write
 * starts at once; see below), posted to the other tabs, and sent to the relay as an UPDATE
 * frame when the handshake is done. The relay's cumulative
 * ACK(seq) settles every change up to seq. After each (re)connect the handshake sends the
 * relay exactly what it lacks, tagged with the highest local seq, so resending never
 * duplicates and covers every queued change, including those loaded from storage. The
 * relay never acks past an update it refused (until the next handshake); what it refuses is
 * retried or reported by HandshakeRecovery.ts. A diff too large for one frame travels as the
 * pending changes in parts (handshakeParts.ts).
 *
 * Why the send does not wait for the storage write: a change counts as safe once it is
 * either in storage or acknowledged by the relay (acknowledged means persisted there).
 * Sending early only adds a second way to survive; a crash before the write finishes loses
 * the change either way unless the relay got it. The write itself starts synchronously, so
 * it never waits behind the initial load.
 *
 * Storage never loses a change to an acknowledgement: acknowledged queue entries are
 * removed by a checkpoint that, in the same transaction, stores a document containing them.
 * Changes loaded from other tabs' queues (tabs closed or crashed before their changes were
 * acknowledged) count as pending here, travel in the handshake diff, and leave storage with
 * this client's checkpoint once acknowledged. Changes other tabs post while open are shown
 * but not queued: the tab that made a change owns it.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { Channel, Connection, ConnectionState } from './connection/Connection.ts'
import { EpochConflictError } from './errors.ts'
import { HandshakeRecovery } from './HandshakeRecovery.ts'
import { handshakeParts } from './handshakeParts.ts'
import { type Intent, describePath } from './intent/Intent.ts'
import { recordIntent } from './intent/record.ts'
import { replayIntents } from './intent/replay.ts'
import { replaceDocument } from './model/epoch.ts'
import { changedDocument } from './model/MemoryDoc.ts'
import { type EndedVector, keptVectors, unwrap, wrap, wrapDocument } from './offline/envelope.ts'
import { Burst } from './offline/Burst.ts'
import { ChangeQueue } from './offline/ChangeQueue.ts'
import type { MemoryStorage, QueueKey, StorageKind, StoredState } from './offline/Storage.ts'
import { TabChannel } from './offline/TabChannel.ts'
import { type AccessLevel, type Message, MessageType } from './protocol/messages.ts'

/** Sync state of one memory. */
export interface MemoryStatus {
  /** The relay connection as this memory sees it: 'online' once its handshake is done. */
  readonly connection: ConnectionState
  /** Local changes the relay has not acknowledged as persisted. */
  readonly pending: number
  /**
   * When the relay last confirmed that it holds every local change (ms since the epoch),
   * or null if it has not in this session.
   */
  readonly lastSyncedAt: number | null
  /** Where unacknowledged changes are kept: 'indexeddb' survives reloads, 'memory' does not. */
  readonly storage: StorageKind
}

/** Origin of changes that came from the relay (not sent back, not queued). */
export const REMOTE_ORIGIN = Symbol('remem.remote')
/** Origin of changes from other tabs: shown, not queued (their tab owns them). */
export const TAB_ORIGIN = Symbol('remem.tab')
/** Origin of what was loaded from storage (already stored, already queued where needed). */
const LOAD_ORIGIN = Symbol('remem.load')
/** Origin of a new epoch's document replacing the local one (docs/DESIGN.md, "Epochs"). */
const EPOCH_ORIGIN = Symbol('remem.epoch')

/** Whether a transaction of `origin` is a change made here (queued and sent), not one received or loaded. */
function isLocal(origin: unknown): boolean {
  return origin !== LOAD_ORIGIN && origin !== REMOTE_ORIGIN && origin !== TAB_ORIGIN && origin !== EPOCH_ORIGIN
}
type Phase = 'closed' | 'handshake' | 'synced'


/** What a memory's presence hears from its sync (see `Presence`). */
export interface PresenceChannel {
  /** The memory's handshake started on a new connection. */
  onOpen(): void
  /** An AWARENESS frame from the relay. */
  onMessage(payload: Uint8Array): void
  /** The connection is gone. */
  onClose(): void
}

export interface MemorySyncOptions {
  name: string
  doc: Y.Doc
  connection: Connection
  /**
   * Where changes are kept until acknowledged. Its writes' failures are its own to report:
   * the client's `FallbackStorage` does, and switches to memory; `written` is not awaited.
   * Appends get views of shared buffers (offline/bytePool.ts): `FallbackStorage` gives
   * storages other than memory storage a copy of their own.
   */
  storage: MemoryStorage
  /** The kind of storage in use now (it changes on a fallback). */
  storageKind: () => StorageKind
  /** The BroadcastChannel name and this client's id, or null for no tab sync. */
  tabs: { channel: string; clientId: string } | null
  /** Delay of a checkpoint after acknowledgements or remote changes, in ms. */
  checkpointMs: number
  onError: (error: Error) => void
  /** Called whenever `status` changes. */
  onStatus?: () => void
}

export class MemorySync implements Channel {
  readonly name: string
  readonly doc: Y.Doc
  private readonly connection: Connection
  private readonly storage: MemoryStorage
  private readonly tabs: TabChannel | null
  /** Local changes until the relay acknowledges them, and their storage. */
  private readonly queue: ChangeQueue
  private phase: Phase = 'closed'
  private statusListeners = new Set<() => void>()
  private cachedStatus: MemoryStatus
  private isLoaded = false
  private disposed = false
  private presence: PresenceChannel | null = null
  /** What the relay lets this client do with the memory (its ACCESS frame); null until told. */
  private accessLevel: AccessLevel | null = null
  /** Retries and reports what the relay refuses. */
  private readonly recovery: HandshakeRecovery
  /** The local transactions of this task, not a change yet (see `closeBurst`). */
  private readonly burst = new Burst()
  /** The relay's updates received in this task, applied together when it ends (`applyRemote`). */
  private remote: Uint8Array[] = []
  /** The Yjs client id the last SYNC step 1 declared. */
  private declaredId: number | null = null
  /** The epoch of the local document (docs/DESIGN.md, "Epochs"). */
  private epoch = 0
  /**
   * The state vectors earlier epochs ended with that this client learned (EPOCH frames) or
   * loaded with the stored document: stored with the document, so that a load can tell which
   * changes other tabs left queued in those epochs the document already holds.
   */
  private endedVectors: EndedVector[] = []
  /** The intent of the local transaction whose update comes next. */
  private lastIntents: Intent[] | null = null
  private readonly offConnection: () => void
  readonly loaded: Promise<void>

  constructor(private readonly options: MemorySyncOptions) {
    this.name = options.name
    this.doc = options.doc
    this.connection = options.connection
    this.storage = options.storage
    this.queue = new ChangeQueue({
      storage: options.storage,
      checkpointMs: options.checkpointMs,
      storedDocument: () => wrapDocument(this.epoch, Y.encodeStateAsUpdate(this.doc), this.endedVectors),
      onError: options.onError,
    })
    this.recovery = new HandshakeRecovery({
      name: this.name,
      canHandshake: () => this.phase !== 'closed' && !this.disposed,
      handshake: () => this.onOpen(),
      report: options.onError,
    })
    this.cachedStatus = Object.freeze({
      connection: 'connecting',
      pending: 0,
      lastSyncedAt: null,
      storage: options.storageKind(),
    })
    this.doc.on('beforeObserverCalls', this.onTransaction)
    this.doc.on('afterTransaction', this.onTransactionEnd)
    this.doc.on('afterTransactionCleanup', this.onTransactionCleanup)
    this.tabs = options.tabs
      ? new TabChannel(options.tabs.channel, options.tabs.clientId, {
          onUpdate: (update) => this.applyFromTab(update),
          diffFor: (stateVector) => {
            const diff = Y.encodeStateAsUpdate(this.doc, stateVector)
            return diff.byteLength > 2 ? wrap(this.epoch, diff) : null
          },
        })
      : null
    this.loaded = this.loadStored()
    this.offConnection = this.connection.subscribe(() => this.refreshStatus())
    this.refreshStatus()
  }

  private async loadStored(): Promise<void> {
    let stored: StoredState = { doc: null, pending: [] }
    try {
      stored = await this.storage.load()
    } catch (error) {
      this.options.onError(error as Error)
    }
    if (this.disposed) return
    const storedDoc = stored.doc ? unwrap(stored.doc) : null
    this.epoch = storedDoc?.epoch ?? 0
    this.endedVectors = [...(storedDoc?.ended ?? [])]
    const entries = stored.pending.map((entry) => ({ key: entry.key, ...unwrap(entry.update) }))
    // Changes stored in an older epoch than the document (a tab still in an older one) are
    // carried over by their intent once loaded. Newer ones are copies a switch made of changes
    // still stored in their older epoch (it stopped before storing its document): dropped.
    const current = entries.filter((entry) => entry.epoch === this.epoch)
    // Those the epoch they were made in ended with (a tab that stopped before its checkpoint
    // removed them, acknowledged or not) are in the document already: carrying them over
    // would apply them twice.
    const held = new Map(this.endedVectors.map(({ epoch, vector }) => [epoch, Y.decodeStateVector(vector)]))
    const carried = entries.filter((entry) => {
      if (entry.epoch >= this.epoch) return false
      const vector = held.get(entry.epoch)
      if (!vector || !includedIn(entry.update, vector)) return true
      this.queue.release(entry.key)
      return false
    })
    for (const entry of entries) if (entry.epoch > this.epoch) this.queue.release(entry.key)
    Y.transact(
      this.doc,
      () => {
        // One bad entry must not keep the rest (or the relay) from the document.
        const apply = (update: Uint8Array): void => {
          try {
            Y.applyUpdate(this.doc, update, LOAD_ORIGIN)
          } catch (error) {
            this.options.onError(
              new Error(`a stored change of memory "${this.name}" does not apply; skipped`, {
                cause: error,
              }),
            )
          }
        }
        if (storedDoc) apply(storedDoc.update)
        for (const entry of current) apply(entry.update)
      },
      LOAD_ORIGIN,
    )
    // Stored changes travel in the first handshake diff, with the changes made meanwhile.
    for (const entry of current) this.queue.addLoaded(entry.update, entry.key, entry.epoch, entry.intents, entry.writes)
    if (carried.length > 0) this.carryOver(carried.map((entry) => ({ ...entry, seq: 0 })))
    this.isLoaded = true
    this.refreshStatus()
    this.tabs?.hello(Y.encodeStateVector(this.doc))
    this.connection.register(this.name, this)
  }

  /** Records the intent of each local transaction, before Yjs collects what it deleted. */
  private readonly onTransaction = (transaction: Y.Transaction): void => {
    const origin = transaction.origin
    if (!isLocal(origin)) return
    if (transaction.changed.size === 0) return
    try {
      this.lastIntents = recordIntent(transaction)
    } catch (error) {
      this.lastIntents = null
      this.options.onError(new Error(`could not record the intent of a change to memory "${this.name}"`, { cause: error }))
    }
  }

  private readonly onTransactionEnd = (transaction: Y.Transaction): void => {
    const origin = transaction.origin
    if ((origin === REMOTE_ORIGIN || origin === TAB_ORIGIN) && changedDocument(transaction)) this.queue.scheduleCheckpoint()
  }

  /**
   * A local transaction that changed the document joins this task's burst, which becomes a
   * change when the task ends (`closeBurst`). Yjs has collected what it deleted by now, and
   * encodes no update of its own: nobody listens to `update`.
   */
  private readonly onTransactionCleanup = (transaction: Y.Transaction): void => {
    if (!isLocal(transaction.origin)) return
    const intents = this.lastIntents === null ? null : JSON.stringify(this.lastIntents)
    this.lastIntents = null
    if (!changedDocument(transaction)) return
    const alone = Burst.alone(intents)
    if (alone) this.closeBurst()
    if (this.burst.isEmpty) queueMicrotask(this.closeBurst)
    this.burst.add(transaction, this.epoch, intents)
    if (alone || this.burst.full) this.closeBurst()
    else this.refreshStatus()
  }

  /**
   * Makes this task's local transactions one change: stored, posted to the other tabs and,
   * once synced, sent as one UPDATE frame tagged with its seq. A burst of writes then costs
   * the relay one check, one append and one ACK. Not synced: the next handshake carries it.
   * Runs when the task ends, and before anything reads the queue or replaces the document.
   */
  private readonly closeBurst = (): void => {
    const burst = this.burst
    if (burst.isEmpty) return
    const update = burst.encode(this.doc)
    const change = this.queue.add(update, burst.epoch, burst.intentsJson(), burst.writes)
    this.tabs?.post(wrap(burst.epoch, update))
    burst.clear()
    if (this.phase === 'synced' && !this.disposed) {
      this.connection.send({ type: MessageType.update, name: this.name, seq: change.seq, update })
    }
    this.refreshStatus()
  }

  private applyFromTab(bytes: Uint8Array): void {
    if (this.disposed) return
    const { epoch, update } = unwrap(bytes)
    // Another epoch's change does not apply here; its tab carries it over itself.
    if (epoch !== this.epoch) return
    try {
      Y.applyUpdate(this.doc, update, TAB_ORIGIN)
    } catch (error) {
      this.options.onError(
        new Error(`a change from another tab does not apply to memory "${this.name}"`, {
          cause: error,
        }),
      )
      return
    }
    // It depends on a change this tab never saw: ask the other tabs for everything missing.
    if (this.doc.store.pendingStructs || this.doc.store.pendingDs)
      this.tabs?.hello(Y.encodeStateVector(this.doc))
    this.redeclareIfIdChanged()
  }

  onOpen(): void {
    this.recovery.handshakeStarted()
    this.phase = 'handshake'
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep1(encoder, this.doc)
    // The id this document writes as: the relay refuses other connections' updates that
    // write new clocks of it (they would make copies diverge).
    encoding.writeVarUint(encoder, this.doc.clientID)
    // The epoch of the local document: a relay in another one answers with EPOCH.
    encoding.writeVarUint(encoder, this.epoch)
    this.declaredId = this.doc.clientID
    this.connection.send({
      type: MessageType.sync,
      name: this.name,
      payload: encoding.toUint8Array(encoder),
    })
    // After SYNC step 1, which subscribes this socket: the relay takes AWARENESS only then.
    this.presence?.onOpen()
    this.refreshStatus()
  }

  onClose(): void {
    this.phase = 'closed'
    this.recovery.cancel()
    this.presence?.onClose()
    this.refreshStatus()
  }

  /** @internal Connects the memory's presence: it hears opens, closes and AWARENESS frames. */
  attachPresence(presence: PresenceChannel): void {
    this.presence = presence
    if (this.phase !== 'closed') presence.onOpen()
  }

  /** @internal Sends an AWARENESS payload if the memory is connected; returns whether it was sent. */
  sendAwareness(payload: Uint8Array): boolean {
    if (this.phase === 'closed' || this.disposed) return false
    return this.connection.send({ type: MessageType.awareness, name: this.name, payload })
  }

  onMessage(message: Message): void {
    // In the relay's order: the updates received before this message are applied first.
    if (this.remote.length > 0 && message.type !== MessageType.sync) this.applyRemote()
    switch (message.type) {
      case MessageType.sync:
        return this.onSync(message.payload)
      case MessageType.ack:
        return this.onAck(message.seq)
      case MessageType.error:
        return this.recovery.refused(message.code, message.message)
      case MessageType.access:
        this.accessLevel = message.access
        return
      case MessageType.awareness:
        return this.presence?.onMessage(message.payload)
      case MessageType.epoch:
        return this.onEpoch(message.epoch, message.endedVector, message.vectorEpoch, message.state)
      case MessageType.update:
      case MessageType.close:
      case MessageType.ping:
      case MessageType.pong:
      case MessageType.auth:
      case MessageType.authOk:
        return
    }
  }

  /** What the relay lets this client do with the memory; null until its first handshake. */
  get access(): AccessLevel | null {
    return this.accessLevel
  }

  /**
   * @internal The unacknowledged changes, oldest first, for the devtools (read only). This
   * task's writes are made a change first, so that the list shows them.
   */
  get pendingChanges(): ReadonlyArray<{
    readonly seq: number
    readonly update: Uint8Array
    readonly since: number
    readonly writes: number
  }> {
    this.closeBurst()
    return this.queue.changes
  }

  /** @internal The memory's presence if the app opened it, else null (devtools). */
  get attachedPresence(): PresenceChannel | null {
    return this.presence
  }

  /**
   * Yjs gives a document a new client id when a remote update carries structs of its own id
   * (someone else wrote as it). The relay protects only the declared id: declare the new one.
   */
  private redeclareIfIdChanged(): void {
    if (this.phase !== 'closed' && !this.disposed && this.doc.clientID !== this.declaredId) this.onOpen()
  }

  private onSync(payload: Uint8Array): void {
    const decoder = decoding.createDecoder(payload)
    const kind = decoding.readVarUint(decoder)
    if (kind === syncProtocol.messageYjsSyncStep1) {
      this.closeBurst()
      this.applyRemote()
      // The relay's state vector: send what it lacks, covering every pending change.
      const relayVector = decoding.readVarUint8Array(decoder)
      const diff = Y.encodeStateAsUpdate(this.doc, relayVector)
      // A diff always carries the whole delete set: deletions alone are not content the relay
      // lacks (every local one stays in a pending change until acknowledged), and queued
      // without intent they could not be carried onto a new epoch (reported as a conflict).
      const hasContent = Y.parseUpdateMeta(diff).to.size > 0
      const pending = this.queue.changes.length
      if (diff.byteLength > this.recovery.partBytes && pending > 1) {
        this.sendInParts(relayVector)
      } else if (pending > 0 || hasContent) {
        if (pending === 0) {
          // Content the relay lacks that no queue holds (it came from another tab, or the
          // relay lost data): queue it like a local change so it is acknowledged.
          this.queue.add(diff, this.epoch, null)
        }
        const seq = this.queue.lastSeq
        if (this.queue.changes.length > 1) this.recovery.sentSeveral(seq, diff.byteLength)
        this.connection.send({ type: MessageType.update, name: this.name, seq, update: diff })
      } else {
        this.queue.synced()
        this.recovery.synced()
      }
      this.phase = 'synced'
      this.refreshStatus()
      return
    }
    const update = decoding.readVarUint8Array(decoder)
    if (this.remote.push(update) === 1) queueMicrotask(this.applyRemote)
  }

  /**
   * Applies the relay's updates received so far, in order, in one transaction. A reader that
   * keeps up gets one per task, as before; one that fell behind reads many frames in one task
   * (a socket's data arrives in one piece), and they cost it one transaction cleanup, one
   * snapshot and one notification instead of one each: the more it lags, the cheaper each update.
   */
  private readonly applyRemote = (): void => {
    const updates = this.remote
    if (updates.length === 0) return
    this.remote = []
    if (this.disposed) return
    try {
      if (updates.length === 1) this.applyFromRelay(updates[0]!)
      else Y.transact(this.doc, () => updates.forEach(this.applyFromRelay), REMOTE_ORIGIN, false)
    } catch (error) {
      // What the transaction's end ran threw (an observer or a subscriber): reported, not
      // thrown out of a microtask, and the remaining work of this task goes on.
      this.reportApplyError(error)
    }
    this.redeclareIfIdChanged()
  }

  /** Applies one of the relay's updates; an update that fails is reported, and the others still apply. */
  private readonly applyFromRelay = (update: Uint8Array): void => {
    try {
      Y.applyUpdate(this.doc, update, REMOTE_ORIGIN)
    } catch (error) {
      this.reportApplyError(error)
    }
  }

  private reportApplyError(error: unknown): void {
    this.options.onError(new Error(`applying an update from the relay to memory "${this.name}" threw`, { cause: error }))
  }

  /**
   * The handshake diff is too large for one frame: the pending changes go in order, in parts
   * (handshakeParts.ts). Content the relay lacks that no pending change holds (another tab's,
   * or lost by the relay) follows as a change of its own, like a diff with nothing pending.
   */
  private sendInParts(relayVector: Uint8Array): void {
    const { parts, vector } = handshakeParts(this.queue.changes, relayVector, this.recovery.partBytes)
    for (const part of parts) {
      if (part.changes > 1) this.recovery.sentSeveral(part.seq, part.update.byteLength)
      this.connection.send({ type: MessageType.update, name: this.name, seq: part.seq, update: part.update })
    }
    const rest = Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(vector))
    if (Y.parseUpdateMeta(rest).to.size === 0) return
    const { seq } = this.queue.add(rest, this.epoch, null)
    this.connection.send({ type: MessageType.update, name: this.name, seq, update: rest })
  }

  /**
   * The relay's memory is in epoch `epoch` (another than the local document's): the local
   * document becomes `state`, every pending change the local epoch did not end up holding
   * (`endedVector`, the state vector epoch `vectorEpoch` ended with) is carried over by its
   * intent (one new change), and the handshake runs again.
   */
  private onEpoch(epoch: number, endedVector: Uint8Array, vectorEpoch: number, state: Uint8Array): void {
    if (this.disposed) return
    // A relay behind this client's epoch sends EPOCH again once it has followed; the same
    // epoch means it has: run the handshake again.
    if (epoch < this.epoch) return
    if (epoch === this.epoch) return this.onOpen()
    // The burst's update is read from the document this replaces.
    this.closeBurst()
    // Changes the local epoch ended with are in the new one (persisted, the ACK lost): with
    // its vector, they settle, however many epochs ago it ended.
    const held = vectorEpoch === this.epoch && endedVector.length > 0 ? Y.decodeStateVector(endedVector) : null
    const carried = this.queue.changes.filter((change) => !(held && change.epoch === this.epoch && includedIn(change.update, held)))
    this.phase = 'handshake'
    // A copy: the frame's bytes, which hold the whole new document, are not kept for it.
    if (held) this.endedVectors = keptVectors(this.endedVectors, [{ epoch: this.epoch, vector: endedVector.slice() }])
    this.epoch = epoch
    replaceDocument(this.doc, state, EPOCH_ORIGIN)
    const dropped = this.queue.takeAll().length
    // The carried-over change is stored first; then the new document replaces the stored one
    // and the old changes leave storage, in one step (see loadStored for a stop in between).
    const before = this.queue.lastSeq
    if (dropped > 0) this.carryOver(carried)
    // A carried-over change is settled only once the change carrying it is acknowledged:
    // whoever waits for it (whenSynced) waits for that one.
    if (this.queue.lastSeq > before && carried.length > 0) this.queue.carriedOver(Math.min(...carried.map((change) => change.seq)))
    void this.queue.checkpoint()
    this.queue.settleWaiters()
    this.refreshStatus()
    this.onOpen()
  }

  /** Replays the intent of `changes` (made in older epochs) as one new local change; reports what cannot be placed. */
  private carryOver(changes: ReadonlyArray<{ epoch: number; intents: Intent[] | null; key: QueueKey | null }>): void {
    const unknown = changes.filter((change) => change.intents === null && change.epoch !== this.epoch)
    for (const change of changes) if (change.key !== null && !this.queue.isReleased(change.key)) this.queue.release(change.key)
    const intents = changes.flatMap((change) => change.intents ?? [])
    let conflicts: ReturnType<typeof replayIntents> = []
    if (intents.length > 0) this.doc.transact(() => (conflicts = replayIntents(this.doc, intents)))
    // The carried-over change is queued now: callers read the queue next.
    this.closeBurst()
    for (const { intent, reason } of conflicts) {
      this.options.onError(
        new EpochConflictError(
          `memory "${this.name}" moved to epoch ${this.epoch}; a change made before could not be carried over: ` +
            `${intent.op} at ${describePath(intent.path)}: ${reason}`,
          intent,
        ),
      )
    }
    if (unknown.length > 0) {
      this.options.onError(
        new EpochConflictError(
          `memory "${this.name}" moved to epoch ${this.epoch}; ${unknown.length} change(s) stored without their intent ` +
            '(by an older version of remem) could not be carried over',
          null,
        ),
      )
    }
  }

  private onAck(seq: number): void {
    // A repeated or stale acknowledgement settles nothing new.
    if (!this.queue.acknowledge(seq)) return
    this.recovery.acknowledged(seq)
    this.refreshStatus()
  }

  /** @internal Runs a due checkpoint now (the page is being hidden or unloaded). */
  flush(): Promise<void> {
    return this.queue.flush()
  }

  /** Resolves when every local change made so far (and every one loaded from storage) is acknowledged. */
  async whenSynced(): Promise<void> {
    // Whoever waits for the acknowledgement gets this task's writes sent now, not at its end.
    this.closeBurst()
    if (!this.isLoaded) await this.loaded
    await this.queue.whenSettled()
  }

  get status(): MemoryStatus {
    return this.cachedStatus
  }

  subscribeStatus(listener: () => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** @internal Recomputes `status`; the client calls it when the storage kind changes. */
  refreshStatus(): void {
    const connection: ConnectionState =
      this.phase === 'synced'
        ? 'online'
        : this.connection.state === 'online'
          ? 'connecting'
          : this.connection.state
    const pending = this.queue.writes + this.burst.writes
    const storage = this.options.storageKind()
    const { lastSyncedAt } = this.queue
    const current = this.cachedStatus
    if (
      connection === current.connection &&
      pending === current.pending &&
      lastSyncedAt === current.lastSyncedAt &&
      storage === current.storage
    ) {
      return
    }
    this.cachedStatus = Object.freeze({ connection, pending, lastSyncedAt, storage })
    if (this.statusListeners.size > 0) for (const listener of [...this.statusListeners]) listener()
    this.options.onStatus?.()
  }

  /** Stops syncing; stores a last checkpoint and waits for storage writes in flight. */
  async dispose(): Promise<void> {
    if (this.disposed) return
    this.closeBurst()
    this.applyRemote()
    this.disposed = true
    this.queue.close()
    this.recovery.cancel()
    this.doc.off('beforeObserverCalls', this.onTransaction)
    this.doc.off('afterTransaction', this.onTransactionEnd)
    this.doc.off('afterTransactionCleanup', this.onTransactionCleanup)
    this.offConnection()
    this.tabs?.close()
    this.connection.unregister(this.name)
    if (this.phase !== 'closed') this.connection.send({ type: MessageType.close, name: this.name })
    this.phase = 'closed'
    await this.loaded
    await this.flush()
    await this.storage.close()
  }
}

/** Whether every struct of `update` is below `vector` (a document with that state vector holds it). */
function includedIn(update: Uint8Array, vector: Map<number, number>): boolean {
  const { to } = Y.parseUpdateMeta(update)
  if (to.size === 0) return false // deletions only: cannot tell, carry them over (they are idempotent)
  for (const [client, clock] of to) if ((vector.get(client) ?? 0) < clock) return false
  return true
}
