/**
 * One memory loaded on a relay: the live document, the sessions subscribed to it, the
 * queue of updates waiting to be persisted, and the chain of log ids it has applied.
 *
 * Updates from clients are checked, applied and fanned out to the other local sessions at
 * once; they are acknowledged only after the store has persisted them (and everything
 * queued before them). Updates other relays persisted arrive through the store's
 * broadcast; a broken id chain means one was missed, and the room catches up from the log.
 */
import { ErrorCode, MemoryDoc, MessageType, encodeMessage, replaceDocument } from '@remem/client/protocol'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { EpochPolicy } from './EpochRebuild.ts'
import { EpochSessions } from './EpochSessions.ts'
import { OwnAppends } from './OwnAppends.ts'
import type { Logger } from './logger.ts'
import type { ClientSession } from './ClientSession.ts'
import { PresenceLink } from './PresenceLink.ts'
import { ProjectionBridge, type ProjectionStats } from './ProjectionBridge.ts'
import { RoomAwareness } from './RoomAwareness.ts'
import { atTurnEnd } from './turnEnd.ts'
import { ClientIdOwners } from './limits/ClientIdOwners.ts'
import { DocumentSize } from './limits/DocumentSize.ts'
import type { RoomEvents } from './ops/metrics.ts'
import { EpochChangedError, type PublishedUpdate, type Store, compareIds } from './store/Store.ts'
import { type UpdateLimits, hasPending, validateUpdate } from './validateUpdate.ts'

export interface RoomOptions extends UpdateLimits {
  store: Store
  relayId: string
  logger: Logger
  /** Compact once the log holds this many entries. */
  compactAfter: number
  /** Start new epochs by itself when the document outgrows its content (createRelay's `epochs`). */
  epochs: boolean
  /** Largest number of queued updates appended in one store call. */
  maxBatch: number
  /** Counters of the projection bridges. */
  stats: ProjectionStats
  /** Longest time a change waits before it is projected to plain keys. */
  coalesceMs: number
  /** How long another relay waits before ingesting again an external change this one never persisted. */
  ingestLeaseMs: number
  /** Largest AWARENESS payload accepted, in bytes. */
  maxAwarenessBytes: number
  /** Largest document (its encoded size) that client updates may grow it to. */
  maxMemoryBytes: number
  /** Told about accepted and acknowledged updates (metrics). */
  events: RoomEvents | null
}

interface Queued {
  /** The epoch the update was made in; dropped (never appended, never acked) once the room left it. */
  epoch: number
  update: Uint8Array | null
  ack: { session: ClientSession; seq: number; at: number; window: AckWindow } | null
}

/**
 * What one session may be acknowledged for this memory since its last SYNC step 1. Acks are
 * cumulative, and the handshake diff covers every pending seq up to its own, so an ACK may
 * only cover seqs that updates accepted on this handshake carried: once an update is refused,
 * acks stop at the highest seq accepted before it (`cap`) until the next SYNC step 1.
 */
interface AckWindow {
  /** Highest seq accepted since the handshake. */
  accepted: number
  /** No ACK above this; Infinity until an update is refused. */
  cap: number
}

const STORE_ORIGIN = Symbol('store')
/** The origin of a transaction that applies the updates of more than one session. */
const SEVERAL_SENDERS = Symbol('several senders')
const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5_000

/** A client update received and not applied yet. */
interface Received {
  session: ClientSession
  seq: number
  update: Uint8Array
}

export class MemoryRoom {
  readonly doc = new MemoryDoc({ gc: true })
  readonly sessions = new Set<ClientSession>()
  /** Who has the memory open and what they share (presence); kept on this relay only. */
  readonly awareness: RoomAwareness<ClientSession>
  /** Shares `awareness` with the other relays, where the store can (see PresenceLink). */
  private readonly presence: PresenceLink | null
  /** Which session writes as which Yjs client id (see ClientIdOwners). */
  readonly clientIds = new ClientIdOwners<ClientSession>()
  /** Id of the last log entry applied to `doc` (all entries up to it are in `doc`). */
  lastId = '0-0'
  /** The memory's epoch (docs/DESIGN.md, "Epochs"); sessions of another epoch get EPOCH. */
  epoch = 0
  /** Each session's epoch: its updates are ignored until its SYNC step 1 names the room's. */
  private readonly sessionEpochs: EpochSessions
  /** Id of the last entry this room appended. */
  private appendedId = '0-0'
  /** Entries this room appended whose broadcast has not come back: not applied again. */
  private readonly ownAppends = new OwnAppends()
  /** When to measure the document and start a new epoch. */
  readonly epochs: EpochPolicy
  /** True while the document is replaced by a new epoch's (nothing is fanned out or queued). */
  private switching = false
  private readonly size: DocumentSize
  private queue: Queued[] = []
  private flushing: Promise<void> | null = null
  private inbound: Promise<void> = Promise.resolve()
  private unsubscribe: (() => Promise<void>) | null = null
  private compacting: Promise<void> | null = null
  private compactAgain = false
  /** A new epoch was due while updates were queued: try again when the queue is empty. */
  private epochWanted = false
  private closed = false
  private retryMs = RETRY_MIN_MS
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private wakeRetry: (() => void) | null = null
  /** Each session's ack window for its current handshake (see AckWindow). */
  private readonly ackWindows = new WeakMap<ClientSession, AckWindow>()
  private idleResolvers: Array<() => void> = []
  /** Client updates received in this turn, in arrival order, not applied yet (see `handleClientUpdate`). */
  private received: Received[] = []
  /** Queue items persisted so far (a running count), and who waits for a count (`persisted`). */
  private persistedItems = 0
  private persistWaiters: Array<{ upto: number; resolve: (persisted: boolean) => void }> = []
  /** Mirrors top-level keys to plain store keys and back; set once loaded. */
  bridge: ProjectionBridge | null = null
  readonly ready: Promise<void>

  constructor(
    readonly name: string,
    private readonly options: RoomOptions,
  ) {
    this.epochs = new EpochPolicy(options.epochs)
    this.sessionEpochs = new EpochSessions(this, options.store)
    this.awareness = new RoomAwareness(
      this.sessions,
      (payload) => encodeMessage({ type: MessageType.awareness, name, payload }),
      options.maxAwarenessBytes,
    )
    this.presence = PresenceLink.attach(this.awareness, options.store, name, options.relayId, options.logger, this.clientIds)
    this.doc.on('update', this.onDocUpdate)
    this.size = new DocumentSize(this.doc, options.maxMemoryBytes)
    this.ready = this.load()
  }

  private async load(): Promise<void> {
    const buffered: PublishedUpdate[] = []
    let loaded = false
    this.unsubscribe = await this.options.store.subscribe(
      this.name,
      (message) => {
        if (loaded) this.receive(message)
        else buffered.push(message)
      },
      (epoch) => {
        if (epoch > this.epoch) void this.followEpoch().catch(() => undefined)
      },
    )
    await this.reload()
    await this.presence?.start()
    loaded = true
    for (const message of buffered) this.receive(message)
    this.bridge = new ProjectionBridge(this.name, this.doc, {
      projection: this.options.store.projection,
      logger: this.options.logger,
      stats: this.options.stats,
      coalesceMs: this.options.coalesceMs,
      owner: this.options.relayId,
      leaseMs: this.options.ingestLeaseMs,
      persisted: () => this.persisted(),
    })
    // External writes made while no relay held this memory are in it before anyone syncs.
    await this.bridge.reconcile()
  }

  /**
   * Applies the stored snapshot and log; safe on a live document (Yjs merges). When the
   * store holds a newer epoch, the document is replaced by it instead (`moveToEpoch`).
   */
  private async reload(): Promise<void> {
    const stored = await this.options.store.load(this.name)
    const logBytes = stored.entries.reduce((sum, entry) => sum + entry.update.byteLength, 0)
    this.epochs.loaded(stored.snapshot?.byteLength ?? 0, logBytes)
    if (stored.epoch !== this.epoch) {
      const state = Y.mergeUpdates([
        ...(stored.snapshot ? [stored.snapshot] : []),
        ...stored.entries.map((entry) => entry.update),
      ])
      this.lastId = stored.lastId
      this.moveToEpoch(stored.epoch, state, stored.previousVector)
      return
    }
    Y.transact(
      this.doc,
      () => {
        if (stored.snapshot) Y.applyUpdate(this.doc, stored.snapshot, STORE_ORIGIN)
        for (const entry of stored.entries) Y.applyUpdate(this.doc, entry.update, STORE_ORIGIN)
      },
      STORE_ORIGIN,
    )
    if (compareIds(stored.lastId, this.lastId) > 0) this.lastId = stored.lastId
  }

  /** Handles one update from the store's broadcast, in order. */
  receive(message: PublishedUpdate): void {
    this.inbound = this.inbound
      .then(async () => {
        if (this.closed || compareIds(message.id, this.lastId) <= 0) return
        if (message.prevId === this.lastId) {
          // This room's own append comes back too: its document already holds the update,
          // and `flush` counted its bytes.
          if (message.origin !== this.options.relayId || !this.ownAppends.take(message.id, message.update)) {
            this.applyStored(message.update)
            this.epochs.appended(message.update.byteLength)
          }
          this.lastId = message.id
        } else {
          this.options.logger.warn('missed a broadcast; catching up from the log', {
            memory: this.name,
            have: this.lastId,
            got: message.id,
          })
          await this.readMissing()
        }
      })
      .catch((error: unknown) => {
        this.options.logger.error('catch-up failed', { memory: this.name, error: String(error) })
      })
  }

  /** Reloads from the store after whatever the room is already receiving: it moved to a new epoch. */
  followEpoch(): Promise<void> {
    const done = this.inbound.then(() => (this.closed ? undefined : this.reload()))
    this.inbound = done.catch((error: unknown) => {
      this.options.logger.error('following a new epoch failed', { memory: this.name, error: String(error) })
    })
    return done
  }

  /** Catches up from the log, after whatever the room is already receiving. */
  catchUp(): Promise<void> {
    const done = this.inbound.then(() => this.readMissing())
    this.inbound = done.catch(() => undefined)
    return done
  }

  /** Reads every log entry after `lastId` (or reloads when they were compacted away). */
  private async readMissing(): Promise<void> {
    if (this.closed) return
    const entries = await this.options.store.readSince(this.name, this.lastId)
    if (entries === null) return this.reload()
    for (const entry of entries) {
      this.applyStored(entry.update)
      this.epochs.appended(entry.update.byteLength)
      this.lastId = entry.id
    }
  }

  private applyStored(update: Uint8Array): void {
    try {
      Y.applyUpdate(this.doc, update, STORE_ORIGIN)
    } catch (error) {
      this.options.logger.error('a stored update does not apply; skipped', {
        memory: this.name,
        error: String(error),
      })
    }
  }

  /**
   * Adds a session and answers its SYNC step 1 made in `epoch`. A session of another epoch
   * gets EPOCH (the whole document) instead, and its updates are ignored until it sends
   * SYNC step 1 again. Returns whether the session is in the room's epoch.
   */
  join(session: ClientSession, stateVector: Uint8Array, epoch = 0): boolean {
    this.applyReceived()
    this.sessions.add(session)
    this.ackWindows.set(session, { accepted: 0, cap: Infinity })
    if (!this.sessionEpochs.join(session, epoch)) {
      // A client ahead of this room: another relay started a newer epoch that this room has
      // not followed yet. Follow it; the move sends EPOCH to every session, this one included.
      if (epoch > this.epoch) void this.followEpoch().catch(() => undefined)
      this.awareness.join(session)
      return false
    }
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep2(encoder, this.doc, stateVector)
    session.send(encodeMessage({ type: MessageType.sync, name: this.name, payload: encoding.toUint8Array(encoder) }))
    const step1 = encoding.createEncoder()
    syncProtocol.writeSyncStep1(step1, this.doc)
    session.send(encodeMessage({ type: MessageType.sync, name: this.name, payload: encoding.toUint8Array(step1) }))
    this.awareness.join(session)
    return true
  }

  /** Whether `session` is in this room. */
  has(session: ClientSession): boolean {
    return this.sessions.has(session)
  }

  /**
   * Replaces the document by epoch `epoch`'s `state` in place (observers, the projection and
   * the inspector keep the same document). What was queued in the old epoch is dropped, never
   * acknowledged: its clients replay it (docs/DESIGN.md). Every session gets EPOCH.
   */
  private moveToEpoch(epoch: number, state: Uint8Array, previousVector: Uint8Array | null): void {
    this.switching = true
    try {
      replaceDocument(this.doc, state, STORE_ORIGIN)
    } finally {
      this.switching = false
    }
    this.epoch = epoch
    this.ownAppends.clear()
    const dropped = this.queue.filter((item) => item.epoch !== epoch).length
    if (dropped > 0 && !this.flushing) {
      this.queue = this.queue.filter((item) => item.epoch === epoch)
      this.settlePersisted(dropped, false)
    }
    for (const session of this.sessions) this.clientIds.release(session)
    this.sessionEpochs.moved(previousVector, this.sessions)
    this.options.logger.info('moved to a new epoch', { memory: this.name, epoch, bytes: state.byteLength })
  }

  leave(session: ClientSession): void {
    this.applyReceived()
    this.sessions.delete(session)
    this.awareness.leave(session)
    this.clientIds.release(session)
  }

  /** Applies a session's AWARENESS frame (presence) and fans it out; refuses a bad one. */
  handleAwareness(session: ClientSession, payload: Uint8Array): void {
    this.applyReceived()
    const refusal = this.awareness.apply(session, payload)
    if (refusal !== null) session.refuse(this.name, ErrorCode.badMessage, refusal)
  }

  /**
   * Takes one client update. The updates that every session delivers in one event-loop turn
   * are applied together at its end (group commit, `applyReceived`): one transaction, one
   * fan-out frame per receiver, one entry for the log; each is still checked on its own, in
   * the order they arrived.
   */
  handleClientUpdate(session: ClientSession, seq: number, update: Uint8Array): void {
    // Before the tasks that write to Redis and to the sockets, so that this turn's append and
    // fan-out leave with them.
    if (this.received.push({ session, seq, update }) === 1) atTurnEnd(this.applyReceived, true)
  }

  /**
   * Checks and applies the updates received and not applied yet, in one transaction, then
   * queues their ACKs behind the update that carries them. Everything that reads a session's
   * state (join, leave, awareness, refusals, persisting, closing) calls it first, so frames
   * still take effect in the order they arrived.
   */
  private readonly applyReceived = (): void => {
    const received = this.received
    if (received.length === 0) return
    this.received = []
    if (this.closed) return
    const acks: Queued[] = []
    Y.transact(
      this.doc,
      () => {
        for (const { session, seq, update } of received) {
          // Made against another epoch: its client replays them once it has the new document.
          if (!this.sessionEpochs.accepts(session) || !this.applyOne(session, seq, update)) continue
          this.options.events?.updateAccepted()
          const window = this.ackWindow(session)
          window.accepted = Math.max(window.accepted, seq)
          acks.push({ epoch: this.epoch, update: null, ack: { session, seq, at: performance.now(), window } })
        }
      },
      // The fan-out skips the session whose updates these are; with several senders it goes to
      // all, each sender getting its own changes back with the others' (Yjs skips what it has).
      received.every((item) => item.session === received[0]!.session) ? received[0]!.session : SEVERAL_SENDERS,
    )
    // After the transaction: its update (queued by onDocUpdate) goes to the log before them.
    this.queue.push(...acks)
    this.flush()
  }

  /** Checks one client update and applies it inside the current transaction; false if refused. */
  private applyOne(session: ClientSession, seq: number, update: Uint8Array): boolean {
    const refusal = this.checkUpdate(session, update)
    if (refusal) {
      this.refuseUpdate(session, seq, refusal.code, refusal.reason)
      return false
    }
    try {
      Y.applyUpdate(this.doc, update, session)
    } catch (error) {
      this.refuseUpdate(session, seq, ErrorCode.malformedUpdate, `update does not apply: ${(error as Error).message}`)
      return false
    }
    if (hasPending(this.doc)) {
      // validateUpdate rules this out; if it ever happens, drop what is parked so the
      // memory keeps working, and say so loudly.
      this.doc.store.pendingStructs = null
      this.doc.store.pendingDs = null
      this.options.logger.error('an update left pending structs; dropped them', { memory: this.name })
    }
    return true
  }

  /** Why `update` may not be applied (validateUpdate, then ownership and size), or null. */
  private checkUpdate(session: ClientSession, update: Uint8Array): { code: ErrorCode; reason: string } | null {
    const verdict = validateUpdate(this.doc, update, this.options)
    if (!verdict.ok) return verdict
    return this.checkOwnershipAndSize(session, update, verdict.ends)
  }

  /**
   * Refuses an update that writes new clocks of a Yjs client id another session owns (see
   * ClientIdOwners), or that adds content past `maxMemoryBytes` (deletions always pass).
   */
  private checkOwnershipAndSize(
    session: ClientSession,
    update: Uint8Array,
    ends: ReadonlyMap<number, number>,
  ): { code: ErrorCode; reason: string } | null {
    const extended: Array<[number, number]> = []
    for (const [client, clock] of ends) if (clock > Y.getState(this.doc.store, client)) extended.push([client, clock])
    const taken = this.clientIds.conflict(session, extended)
    if (taken !== null) {
      return {
        code: ErrorCode.clientIdTaken,
        reason:
          `update writes as Yjs client ${taken.client} at or past clock ${taken.clock}, ` +
          'which another connection owns on this relay',
      }
    }
    if (extended.length > 0 && this.size.wouldExceed(update.byteLength)) {
      return {
        code: ErrorCode.memoryTooLarge,
        reason: `memory "${this.name}" would exceed maxMemoryBytes (${this.size.maxBytes}); delete something first`,
      }
    }
    return null
  }

  /**
   * Refuses a client update (`seq` is the one it carried, for the log). Until the session's
   * next SYNC step 1 no ACK goes past the highest seq accepted before this refusal: a
   * handshake diff covers every pending seq up to its own, so a refused one may have carried
   * changes that no later update repeats.
   */
  refuseUpdate(session: ClientSession, seq: number, code: ErrorCode, reason: string): void {
    // Not from applyOne: what arrived before this refused frame counts first.
    this.applyReceived()
    const window = this.ackWindow(session)
    window.cap = Math.min(window.cap, window.accepted)
    session.refuse(this.name, code, `${reason} (update seq ${seq})`)
  }

  private ackWindow(session: ClientSession): AckWindow {
    let window = this.ackWindows.get(session)
    if (!window) this.ackWindows.set(session, (window = { accepted: 0, cap: Infinity }))
    return window
  }

  private sendAck(ack: NonNullable<Queued['ack']>): void {
    const upto = Math.min(ack.seq, ack.window.cap)
    if (upto >= 1) ack.session.ack(this.name, upto)
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.switching) return
    // One frame for every session but the sender (for every session when several sent:
    // SEVERAL_SENDERS); no array of receivers per update.
    const receivers = this.sessions.size - (this.sessions.has(origin as ClientSession) ? 1 : 0)
    if (receivers > 0) {
      const encoder = encoding.createEncoder()
      syncProtocol.writeUpdate(encoder, update)
      const payload = encoding.toUint8Array(encoder)
      const frame = encodeMessage({ type: MessageType.sync, name: this.name, payload })
      for (const session of this.sessions) if (session !== origin) session.send(frame)
    }
    // What a client changed is persisted as the effective update Yjs reports, so
    // duplicates and no-ops never reach the log.
    if (origin !== STORE_ORIGIN) {
      this.queue.push({ epoch: this.epoch, update, ack: null })
      // After the current task, so that a client update's ack joins the same batch.
      queueMicrotask(() => this.flush())
    }
  }

  /** Persists queued updates in order, retrying while the store is down, then acks. */
  private flush(): void {
    if (this.flushing || this.closed) return
    this.flushing = (async () => {
      while (this.queue.length > 0 && !this.closed) {
        if (this.dropOtherEpochs()) continue
        const batch = this.queue.slice(0, this.options.maxBatch)
        const epoch = this.epoch
        const updates = batch.flatMap((item) => (item.update ? [item.update] : []))
        try {
          if (updates.length > 0) {
            const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
            this.ownAppends.begin(merged)
            const result = await this.options.store.append(this.name, [merged], this.options.relayId, epoch)
            this.epochs.appended(merged.byteLength)
            this.appendedId = result.ids.at(-1) ?? this.appendedId
            this.ownAppends.end(result.ids, this.lastId)
            if (result.logLength >= this.options.compactAfter || this.epochs.due) void this.compact()
          }
        } catch (error) {
          this.ownAppends.end(null, this.lastId)
          if (error instanceof EpochChangedError || epoch !== this.epoch) {
            // Another relay started a new epoch: follow it; what was queued here is dropped.
            await this.followEpoch().catch(() => undefined)
            this.dropOtherEpochs(epoch)
            continue
          }
          this.options.logger.warn('persisting failed; acknowledgements withheld, retrying', {
            memory: this.name,
            retryInMs: this.retryMs,
            error: String(error),
          })
          await new Promise<void>((resolve) => {
            this.wakeRetry = resolve
            this.retryTimer = setTimeout(resolve, this.retryMs * (0.5 + Math.random() / 2))
          })
          if (this.retryTimer) clearTimeout(this.retryTimer)
          this.retryTimer = null
          this.wakeRetry = null
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS)
          continue
        }
        this.retryMs = RETRY_MIN_MS
        this.queue.splice(0, batch.length)
        this.settlePersisted(batch.length)
        // One ACK per session for the batch: an ACK covers every seq up to its own.
        const lastAcks = new Map<ClientSession, NonNullable<Queued['ack']>>()
        for (const item of batch) {
          if (!item.ack) continue
          lastAcks.set(item.ack.session, item.ack)
          this.options.events?.acked(performance.now() - item.ack.at)
        }
        for (const ack of lastAcks.values()) this.sendAck(ack)
      }
    })().finally(() => {
      this.flushing = null
      if (this.queue.length > 0 && !this.closed) this.flush()
      else {
        // A new epoch was due while updates were queued: now nothing is.
        if (this.epochWanted && !this.closed) void this.compact()
        for (const resolve of this.idleResolvers.splice(0)) resolve()
      }
    })
  }

  /**
   * Drops queued updates of epochs the room left (and of `left`, once the store said the
   * memory left it); returns whether any were dropped. Their acks are never sent.
   */
  private dropOtherEpochs(left?: number): boolean {
    const keep = this.queue.filter((item) => item.epoch === this.epoch && item.epoch !== left)
    const dropped = this.queue.length - keep.length
    if (dropped === 0) return false
    // Keep the order of what stays, and count the dropped ones as settled (not persisted).
    this.queue = keep
    this.settlePersisted(dropped, false)
    return true
  }

  /** Retries persisting at once (the store is reachable again), instead of after the backoff. */
  retryNow(): void {
    this.retryMs = RETRY_MIN_MS
    this.wakeRetry?.()
  }

  /** Whether updates are waiting to be persisted. */
  get pendingWrites(): number {
    return this.queue.length
  }

  /**
   * Resolves true once every update queued so far is persisted, also while later ones keep
   * coming; false when the room closes first.
   */
  persisted(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    if (this.queue.length === 0) return Promise.resolve(true)
    const upto = this.persistedItems + this.queue.length
    return new Promise((resolve) => this.persistWaiters.push({ upto, resolve }))
  }

  private settlePersisted(count: number, persisted = true): void {
    this.persistedItems += count
    const waiting = this.persistWaiters
    this.persistWaiters = []
    for (const waiter of waiting) {
      // Dropped items (an epoch left) were never persisted: whoever waits for them hears false.
      if (!persisted) waiter.resolve(false)
      else if (waiter.upto <= this.persistedItems) waiter.resolve(true)
      else this.persistWaiters.push(waiter)
    }
  }

  /** Resolves once every queued update is persisted (or the room closed). */
  whenPersisted(): Promise<void> {
    this.applyReceived()
    if (!this.flushing && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleResolvers.push(resolve))
  }

  /**
   * Writes a snapshot covering `lastId` and trims the log; or, when the document carries
   * much more history than content (see EpochRebuild.ts) or `newEpoch` says so, starts a new
   * epoch. A new epoch needs every change the room applied to be persisted: while updates are
   * queued it compacts as usual, and the next compaction tries again.
   */
  compact(newEpoch = false): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (this.compacting) {
      // Asked again while one runs (the log grew meanwhile): run again once it is done.
      this.compactAgain = true
      return this.compacting
    }
    this.compacting = this.compactNow(newEpoch).finally(() => {
      this.compacting = null
      if (this.compactAgain && !this.closed) {
        this.compactAgain = false
        if (this.epochs.due || this.epochWanted) void this.compact()
      }
    })
    return this.compacting
  }

  /** Resolves once no compaction (or new epoch) is under way. */
  async whenCompacted(): Promise<void> {
    while (this.compacting) await this.compacting
  }

  private async compactNow(newEpoch: boolean): Promise<void> {
    try {
      await this.inbound
      // The broadcast of this room's own last append may still be on its way.
      if (compareIds(this.appendedId, this.lastId) > 0) await this.catchUp()
      const uptoId = this.lastId
      if (uptoId === '0-0' && !newEpoch) return
      const idle = this.queue.length === 0
      this.epochWanted = false
      // The room document is garbage-collected, so its encoding is already compact.
      const { encoded, fresh } = this.epochs.decide(this.doc, newEpoch && idle)
      if (fresh && idle && this.queue.length === 0) {
        const from = this.epoch
        const previousVector = Y.encodeStateVector(this.doc)
        const switched = await this.options.store.switchEpoch(this.name, { from, uptoId, snapshot: fresh, previousVector })
        if (switched && this.epoch === from && !this.closed) {
          this.epochs.compacted(fresh.byteLength)
          this.lastId = uptoId
          this.moveToEpoch(from + 1, fresh, previousVector)
        } else if (!switched) {
          this.epochs.retry()
        }
        return
      }
      // A new epoch is due but updates are queued: compact now, and try again once the
      // queue is empty (the next append would otherwise only come with the next write).
      if (fresh) {
        this.epochWanted = true
        this.epochs.retry()
      }
      if (uptoId === '0-0') return
      if (await this.options.store.compact(this.name, encoded, uptoId)) this.epochs.compacted(encoded.byteLength)
    } catch (error) {
      this.options.logger.warn('compaction failed; will retry later', { memory: this.name, error: String(error) })
    }
  }

  /**
   * Unsubscribes and frees the document. Call after `whenPersisted` for a clean unload: what
   * is still queued is dropped (unacknowledged), and external changes ingested but not
   * persisted stay unconfirmed, for the next relay to ingest again (see ProjectionBridge).
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.applyReceived()
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.wakeRetry?.()
    for (const resolve of this.idleResolvers.splice(0)) resolve()
    for (const waiter of this.persistWaiters.splice(0)) waiter.resolve(false)
    await this.presence?.close()
    // Projects without ingesting: an ingest now could no longer be persisted.
    await this.bridge?.close()
    this.doc.off('update', this.onDocUpdate)
    this.size.dispose()
    this.doc.destroy()
    await this.unsubscribe?.().catch(() => undefined)
  }
}
