/**
 * Where a client keeps each memory between sessions: the local document and the queue
 * of changes the relay has not acknowledged yet. A change is appended here before it is
 * sent (write-ahead), and removed once acknowledged.
 */

/** One local change waiting for the relay's acknowledgement. */
export interface PendingUpdate {
  seq: number
  update: Uint8Array
}

/** What was stored for one memory. */
export interface StoredState {
  /** The local document as a Yjs update, or null for a memory never stored. */
  doc: Uint8Array | null
  /** Unacknowledged changes, oldest first. */
  pending: PendingUpdate[]
}

/** The stored copy of one memory. Calls are made in order; each resolves once durable. */
export interface MemoryStorage {
  load(): Promise<StoredState>
  /** Adds a change to the queue (and to the local document). */
  append(entry: PendingUpdate): Promise<void>
  /** Removes every queued change with `seq <= upto`. */
  acknowledge(upto: number): Promise<void>
  /** Replaces the stored document with a compacted one (the queue is kept). */
  saveDoc(doc: Uint8Array): Promise<void>
  close(): Promise<void>
}

/** Opens the stored copy of a memory, keyed by relay URL and memory name. */
export interface StorageAdapter {
  readonly kind: 'indexeddb' | 'memory'
  open(relayUrl: string, memory: string): MemoryStorage
}
