/**
 * Where a client keeps each memory between sessions: the local document and the queues
 * of changes the relay has not acknowledged yet.
 *
 * Every client (every tab) appends to its own queue, so tabs writing at once never
 * overwrite each other's changes; loading returns the queues of every client, so a tab
 * opened later picks up what closed (or crashed) tabs left behind. A change is appended
 * when it is made (write-ahead), and removed only together with storing a document that
 * contains it (`checkpoint`), so that nothing is ever only in a queue that was emptied.
 */

/** Identifies one queued change in its storage. Opaque to everything but the storage. */
export type QueueKey = string | number | ReadonlyArray<string | number>

/** One unacknowledged change as stored. */
export interface StoredUpdate {
  key: QueueKey
  update: Uint8Array
}

/** What was stored for one memory. */
export interface StoredState {
  /** The local document as a Yjs update, or null for a memory never stored. */
  doc: Uint8Array | null
  /** Unacknowledged changes of every client that used this storage, oldest first per client. */
  pending: StoredUpdate[]
}

/** The result of an append: the new entry's key, and when it is durable. */
export interface Appended {
  key: QueueKey
  /** Resolves once the change is durable; rejects when the write failed. */
  written: Promise<void>
}

/**
 * The stored copy of one memory as one client sees it. Operations take effect in the
 * order they are called (an append called before a checkpoint is written before it).
 */
export interface MemoryStorage {
  /** Reads the stored document and every client's queue. */
  load(): Promise<StoredState>
  /**
   * Adds a change to this client's queue. The write starts before this returns, so a
   * change made just before the page dies is not lost waiting for earlier work.
   */
  append(update: Uint8Array): Appended
  /**
   * Merges `doc` into the stored document (never replacing what another client stored)
   * and removes the queued changes `acknowledged`, in one atomic step. `doc` must
   * contain every change removed.
   */
  checkpoint(doc: Uint8Array, acknowledged: readonly QueueKey[]): Promise<void>
  /** Resolves once every write called so far has finished. */
  close(): Promise<void>
}

/** Which kind of storage is in use: durable IndexedDB, or this process only. */
export type StorageKind = 'indexeddb' | 'memory'

/** Opens the stored copy of a memory, keyed by relay URL and memory name. */
export interface StorageAdapter {
  readonly kind: StorageKind
  /**
   * Opens memory `memory` of relay `relayUrl` for client `clientId` (a random id per
   * client, naming its own queue).
   */
  open(relayUrl: string, memory: string, clientId: string): MemoryStorage
}
