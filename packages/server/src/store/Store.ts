/**
 * Where a relay keeps memories: a log of Yjs updates per memory plus a compacted snapshot,
 * and a broadcast of each appended update to the other relays on the same store.
 *
 * Log ids are Redis stream ids (`<ms>-<seq>`), ordered; `'0-0'` means "before the first".
 * Every published update carries its own id and the id of the entry before it in the log,
 * so a relay that sees `prevId !== lastIdItHas` knows it missed one and calls `readSince`.
 */
import type { Projection } from './Projection.ts'

/** One persisted update. */
export interface LogEntry {
  id: string
  update: Uint8Array
}

/** A memory as stored: the snapshot (if any) and the log entries after it, oldest first. */
export interface StoredMemory {
  snapshot: Uint8Array | null
  entries: LogEntry[]
  /** Id of the last entry included (in the snapshot or the entries); `'0-0'` if none. */
  lastId: string
}

/** An update another relay (or this one) appended, as delivered by the broadcast. */
export interface PublishedUpdate extends LogEntry {
  /** Id of the log entry just before this one; `'0-0'` for the first. */
  prevId: string
  /** The `relayId` passed to `append` by whoever appended it. */
  origin: string
}

/** Result of an append. */
export interface AppendResult {
  /** Ids given to the appended updates, in order. */
  ids: string[]
  /** Id of the entry before the first appended one. */
  prevId: string
  /** Number of entries in the log after the append (snapshot not counted). */
  logLength: number
}

export type StoreStatus = 'up' | 'down'

/** The storage seam of the relay. `EmbeddedStore` and `RedisStore` implement it. */
export interface Store {
  readonly kind: 'embedded' | 'redis'
  /** The plain keys that mirror each memory's top-level keys (see Projection.ts). */
  readonly projection: Projection
  /** Loads the snapshot and the log of memory `name` (empty for a new memory). */
  load(name: string): Promise<StoredMemory>
  /**
   * Appends `updates` to the log of `name` atomically and in order, then publishes each
   * to every subscriber of `name` (on every relay, this one included). Resolves once
   * persisted; rejects when the store is unreachable (nothing is then half-written).
   */
  append(name: string, updates: Uint8Array[], relayId: string): Promise<AppendResult>
  /**
   * Log entries after `afterId`, oldest first; `null` when entries after `afterId` were
   * already compacted away, in which case the caller reloads with `load`.
   */
  readSince(name: string, afterId: string): Promise<LogEntry[] | null>
  /**
   * Stores `snapshot` as covering every log entry up to and including `uptoId`, then trims
   * those entries. Does nothing and returns false when the stored snapshot already covers
   * `uptoId` or more (another relay compacted further).
   */
  compact(name: string, snapshot: Uint8Array, uptoId: string): Promise<boolean>
  /** Delivers every update published for `name`, in log order. Returns the unsubscribe. */
  subscribe(name: string, listener: (update: PublishedUpdate) => void): Promise<() => Promise<void>>
  /**
   * Called with 'down' when the store becomes unreachable and 'up' when it is back (after
   * which subscribers should catch up with `readSince`). Returns the unsubscribe.
   */
  onStatus(listener: (status: StoreStatus) => void): () => void
  /** Releases connections and timers. */
  close(): Promise<void>
}

/** Compares two log ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt)
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt)
  if (am !== bm) return am < bm ? -1 : 1
  return as === bs ? 0 : as < bs ? -1 : 1
}
