/**
 * A memory's local changes until the relay acknowledges them. Each gets the next sequence
 * number and is appended to storage as it is made; the relay's cumulative ACK(seq) settles
 * every change up to seq; a checkpoint then stores the document and removes the settled
 * changes from storage in one step, so that a change is never only in a queue that was
 * emptied. `whenSettled` waits for the changes made so far.
 */
import type { Intent } from '../intent/Intent.ts'
import { PendingChange } from './PendingChange.ts'
import type { MemoryStorage, QueueKey } from './Storage.ts'

export interface ChangeQueueOptions {
  storage: MemoryStorage
  /** Delay of a checkpoint after acknowledgements or remote changes, in ms. */
  checkpointMs: number
  /** The document to store at a checkpoint, as storage keeps it (with its epoch). */
  storedDocument: () => Uint8Array
  onError: (error: Error) => void
}

export class ChangeQueue {
  private pending: PendingChange[] = []
  /** The sum of `pending`'s `writes`. */
  private pendingWrites = 0
  /** Storage keys of settled or dropped changes, removed at the next checkpoint. */
  private released: QueueKey[] = []
  private seq = 0
  private waiters: Array<{ seq: number; resolve: () => void }> = []
  private settledAt: number | null = null
  private checkpointTimer: ReturnType<typeof setTimeout> | null = null
  private checkpointing: Promise<void> = Promise.resolve()
  private closed = false

  constructor(private readonly options: ChangeQueueOptions) {}

  /** The unsettled changes, oldest first. */
  get changes(): readonly PendingChange[] {
    return this.pending
  }

  /** The sequence number of the newest change (0 before the first). */
  get lastSeq(): number {
    return this.seq
  }

  /** When the relay last held every change (ms since the epoch), or null if it has not yet. */
  get lastSyncedAt(): number | null {
    return this.settledAt
  }

  /** The local transactions the unsettled changes hold. */
  get writes(): number {
    return this.pendingWrites
  }

  /** Stores a change of `writes` transactions made now, in `epoch`, and queues it. */
  add(update: Uint8Array, epoch: number, intents: Intent[] | string | null, writes = 1): PendingChange {
    const change = PendingChange.made(++this.seq, epoch, update, intents, writes, this.store)
    this.pending.push(change)
    this.pendingWrites += writes
    return change
  }

  private readonly store = (envelope: Uint8Array): QueueKey => this.options.storage.append(envelope).key

  /** Queues a change loaded from storage (already stored under `key`). */
  addLoaded(update: Uint8Array, key: QueueKey, epoch: number, intents: Intent[] | null, writes = 1): void {
    this.pending.push(PendingChange.loaded(++this.seq, update, key, epoch, intents, writes))
    this.pendingWrites += writes
  }

  /** Removes the stored entry `key` at the next checkpoint (a change settled another way). */
  release(key: QueueKey): void {
    this.released.push(key)
  }

  /** Whether the stored entry `key` is to go at the next checkpoint. */
  isReleased(key: QueueKey): boolean {
    return this.released.includes(key)
  }

  /** Settles every change up to `seq`; false when none was pending (a repeated or stale ACK). */
  acknowledge(seq: number): boolean {
    if ((this.pending[0]?.seq ?? Infinity) > seq) return false
    const at = this.pending.findIndex((change) => change.seq > seq)
    const settled = at === -1 ? this.pending : this.pending.slice(0, at)
    this.pending = at === -1 ? [] : this.pending.slice(at)
    for (const change of settled) {
      if (change.key !== null) this.released.push(change.key)
      this.pendingWrites -= change.writes
    }
    this.settleWaiters()
    this.scheduleCheckpoint()
    return true
  }

  /** Takes every change out of the queue (the memory moved to a new epoch); their stored entries go at the next checkpoint. */
  takeAll(): PendingChange[] {
    const taken = this.pending
    this.pending = []
    this.pendingWrites = 0
    for (const change of taken) if (change.key !== null) this.released.push(change.key)
    return taken
  }

  /** The newest change carries over those from `fromSeq` on: whoever waits for them waits for it. */
  carriedOver(fromSeq: number): void {
    for (const waiter of this.waiters) if (waiter.seq >= fromSeq) waiter.seq = this.seq
  }

  /** The relay holds every change: `lastSyncedAt` is now. */
  synced(): void {
    this.settledAt = Date.now()
  }

  /** Resolves once every change queued so far is settled. */
  whenSettled(): Promise<void> {
    const target = this.pending.at(-1)?.seq
    if (target === undefined) return Promise.resolve()
    return new Promise<void>((resolve) => this.waiters.push({ seq: target, resolve }))
  }

  /** Resolves the waiters whose changes are all settled. */
  settleWaiters(): void {
    const oldest = this.pending[0]?.seq ?? Infinity
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.seq < oldest) waiter.resolve()
      return waiter.seq >= oldest
    })
    if (this.pending.length === 0) this.settledAt = Date.now()
  }

  /** A checkpoint after `checkpointMs`, unless one is already due. */
  scheduleCheckpoint(): void {
    if (this.checkpointTimer || this.closed) return
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null
      void this.checkpoint()
    }, this.options.checkpointMs)
    ;(this.checkpointTimer as { unref?: () => void }).unref?.()
  }

  /**
   * Stores the document (merged with what is stored) and removes the released entries it
   * contains, in one step.
   */
  checkpoint(): Promise<void> {
    const released = this.released.splice(0)
    const doc = this.options.storedDocument()
    this.checkpointing = this.checkpointing
      .then(() => this.options.storage.checkpoint(doc, released))
      .catch((error: unknown) => this.options.onError(error as Error))
    return this.checkpointing
  }

  /** Runs a due checkpoint now (the page is being hidden or unloaded). */
  flush(): Promise<void> {
    if (!this.checkpointTimer && this.released.length === 0) return this.checkpointing
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer)
    this.checkpointTimer = null
    return this.checkpoint()
  }

  /** Schedules no more checkpoints: `flush` stores the last one. */
  close(): void {
    this.closed = true
  }
}
