/**
 * One change of a memory that the relay has not acknowledged yet, as `MemorySync` keeps it
 * in memory. A change made here is kept as its storage envelope (envelope.ts) alone: its
 * update is read as a view of the envelope, and its intent, needed only to carry it onto a
 * newer epoch, is read back from the envelope then. An offline client keeping thousands of
 * changes holds one array per change, not a buffer, a copy and the intent's objects.
 */
import type { Intent } from '../intent/Intent.ts'
import { allocatePooled } from './bytePool.ts'
import { unwrap, wrap } from './envelope.ts'
import type { QueueKey } from './Storage.ts'

export class PendingChange {
  /** The intent once known: undefined until read from the envelope. */
  #intents: Intent[] | null | undefined
  /** The Yjs update, or the envelope that ends with it (see `update`). */
  readonly #bytes: Uint8Array
  /** Where the update starts in `#bytes` (0 when `#bytes` is the update). */
  readonly #updateStart: number

  private constructor(
    /** Its sequence number in this session (an ACK settles every seq up to its own). */
    readonly seq: number,
    /** Its key in storage, or null when it was never stored. */
    readonly key: QueueKey | null,
    /** The epoch it was made in. */
    readonly epoch: number,
    /** When it became pending here (ms epoch; for a stored change, when it was loaded). */
    readonly since: number,
    /** The local transactions it holds (more than 1 for a burst). */
    readonly writes: number,
    intents: Intent[] | null | undefined,
    bytes: Uint8Array,
    updateStart: number,
  ) {
    this.#intents = intents
    this.#bytes = bytes
    this.#updateStart = updateStart
  }

  /**
   * A change made now of `writes` transactions: wraps `update` with its epoch and intent (or
   * the intent's JSON) for storage. `store` is given the envelope and returns its storage key
   * (or null when it is not stored).
   */
  static made(
    seq: number,
    epoch: number,
    update: Uint8Array,
    intents: Intent[] | string | null,
    writes: number,
    store: (envelope: Uint8Array) => QueueKey | null,
  ): PendingChange {
    // Pooled: storage gets a buffer of its own where it may clone it (FallbackStorage).
    const envelope = wrap(epoch, update, intents, allocatePooled, writes)
    const key = store(envelope)
    // The update ends the envelope: kept there, so that Yjs's copy is garbage at once.
    return new PendingChange(seq, key, epoch, Date.now(), writes, undefined, envelope, envelope.byteLength - update.byteLength)
  }

  /** A change loaded from storage, already unwrapped. */
  static loaded(seq: number, update: Uint8Array, key: QueueKey, epoch: number, intents: Intent[] | null, writes: number): PendingChange {
    return new PendingChange(seq, key, epoch, Date.now(), writes, intents, update, 0)
  }

  /** The Yjs update (a view of the envelope for a change made here: made when asked, as it rarely is). */
  get update(): Uint8Array {
    return this.#updateStart === 0 ? this.#bytes : this.#bytes.subarray(this.#updateStart)
  }

  /** What it meant, to carry it onto a newer epoch; null when unknown (a handshake diff). */
  get intents(): Intent[] | null {
    // Only a change made here has it undefined, and it is kept as its envelope then.
    if (this.#intents === undefined) this.#intents = unwrap(this.#bytes).intents
    return this.#intents
  }
}
