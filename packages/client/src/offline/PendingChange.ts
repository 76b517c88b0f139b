/**
 * One change of a memory that the relay has not acknowledged yet, as `MemorySync` keeps it
 * in memory. A change made here is kept as its storage envelope (envelope.ts) alone: its
 * update is a view of the envelope, and its intent, needed only to carry it onto a newer
 * epoch, is read back from the envelope then. An offline client keeping thousands of changes
 * holds one buffer per change, not a buffer, a copy and the intent's objects.
 */
import type { Intent } from '../intent/Intent.ts'
import { allocatePooled } from './bytePool.ts'
import { unwrap, wrap } from './envelope.ts'
import type { QueueKey } from './Storage.ts'

export class PendingChange {
  /** The intent once known: undefined until read from the envelope. */
  #intents: Intent[] | null | undefined
  readonly #envelope: Uint8Array | null

  private constructor(
    /** Its sequence number in this session (an ACK settles every seq up to its own). */
    readonly seq: number,
    /** The Yjs update. */
    readonly update: Uint8Array,
    /** Its key in storage, or null when it was never stored. */
    readonly key: QueueKey | null,
    /** The epoch it was made in. */
    readonly epoch: number,
    /** When it became pending here (ms epoch; for a stored change, when it was loaded). */
    readonly since: number,
    intents: Intent[] | null | undefined,
    envelope: Uint8Array | null,
  ) {
    this.#intents = intents
    this.#envelope = envelope
  }

  /**
   * A change made now: wraps `update` with its epoch and intent for storage. `store` is given
   * the envelope and returns its storage key (or null when it is not stored).
   */
  static made(
    seq: number,
    epoch: number,
    update: Uint8Array,
    intents: Intent[] | null,
    store: (envelope: Uint8Array) => QueueKey | null,
  ): PendingChange {
    // Pooled: storage gets a buffer of its own where it may clone it (FallbackStorage).
    const envelope = wrap(epoch, update, intents, allocatePooled)
    const key = store(envelope)
    // The update ends the envelope: a view of it, so that Yjs's copy is garbage at once.
    const view = envelope.subarray(envelope.byteLength - update.byteLength)
    return new PendingChange(seq, view, key, epoch, Date.now(), undefined, envelope)
  }

  /** A change loaded from storage, already unwrapped. */
  static loaded(seq: number, update: Uint8Array, key: QueueKey, epoch: number, intents: Intent[] | null): PendingChange {
    return new PendingChange(seq, update, key, epoch, Date.now(), intents, null)
  }

  /** What it meant, to carry it onto a newer epoch; null when unknown (a handshake diff). */
  get intents(): Intent[] | null {
    if (this.#intents === undefined) this.#intents = this.#envelope ? unwrap(this.#envelope).intents : null
    return this.#intents
  }
}
