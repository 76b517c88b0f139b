/**
 * Where a relay keeps memories: a log of Yjs updates per memory plus a compacted snapshot,
 * and a broadcast of each appended update to the other relays on the same store.
 *
 * Log ids are Redis stream ids (`<ms>-<seq>`), ordered; `'0-0'` means "before the first".
 * Every published update carries its own id and the id of the entry before it in the log,
 * so a relay that sees `prevId !== lastIdItHas` knows it missed one and calls `readSince`.
 */
import type { PresenceBus } from './PresenceBus.ts'
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
  /** The memory's epoch (0 until its first rebuild; see docs/DESIGN.md, "Epochs"). */
  epoch: number
  /**
   * The state vector the previous epoch ended with (null in epoch 0): a client of that epoch
   * holding a change within it knows the change is in this epoch.
   */
  previousVector: Uint8Array | null
}

/** What `Store.switchEpoch` stores. */
export interface EpochSwitch {
  /** The epoch the memory is in now; the switch fails unless the store agrees. */
  from: number
  /** The id of the last log entry the rebuilt document covers; the switch fails unless it is the log's last. */
  uptoId: string
  /** The new epoch's whole document (a fresh Yjs document's state). */
  snapshot: Uint8Array
  /** The state vector the old epoch ended with. */
  previousVector: Uint8Array
}

/**
 * How many past epochs' final state vectors a store keeps (`Store.endedVector`). A client more
 * epochs behind replays every pending change by intent (docs/DESIGN.md, "Epochs").
 */
export const KEPT_ENDED_VECTORS = 1024

/** An append was made against an epoch the memory has left; nothing was appended. */
export class EpochChangedError extends Error {
  override readonly name = 'EpochChangedError'
  constructor(
    readonly memory: string,
    /** The epoch the store holds. */
    readonly epoch: number,
  ) {
    super(`memory "${memory}" moved to epoch ${epoch}: the append was made against an older one and was refused`)
  }
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
  /** Presence shared with the other relays on this store; absent: presence stays on each relay. */
  readonly presence?: PresenceBus
  /** Loads the snapshot and the log of memory `name` (empty for a new memory). */
  load(name: string): Promise<StoredMemory>
  /**
   * Appends `updates` to the log of `name` atomically and in order, then publishes each
   * to every subscriber of `name` (on every relay, this one included). Resolves once
   * persisted; rejects when the store is unreachable (nothing is then half-written). With
   * `epoch`, rejects with `EpochChangedError` (appending nothing) unless the memory is in it.
   */
  append(name: string, updates: Uint8Array[], relayId: string, epoch?: number): Promise<AppendResult>
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
  /**
   * Starts a new epoch atomically: when the memory is in epoch `from` and its log ends at
   * `uptoId`, stores `snapshot` as the whole document of epoch `from + 1` (covering `uptoId`),
   * empties the log and tells every subscriber (`onEpoch`). Otherwise changes nothing and
   * returns false.
   */
  switchEpoch(name: string, change: EpochSwitch): Promise<boolean>
  /**
   * The state vector epoch `epoch` of `name` ended with, kept for the last
   * {@link KEPT_ENDED_VECTORS} epochs: a client still in that epoch learns which of its
   * changes are already in the current one. Null when not kept or not ended.
   */
  endedVector(name: string, epoch: number): Promise<Uint8Array | null>
  /**
   * Delivers every update published for `name`, in log order, and (to `onEpoch`) each new
   * epoch. Returns the unsubscribe.
   */
  subscribe(
    name: string,
    listener: (update: PublishedUpdate) => void,
    onEpoch?: (epoch: number) => void,
  ): Promise<() => Promise<void>>
  /**
   * Called with 'down' when the store becomes unreachable and 'up' when it is back (after
   * which subscribers should catch up with `readSince`). Returns the unsubscribe.
   */
  onStatus(listener: (status: StoreStatus) => void): () => void
  /** Releases connections and timers. */
  close(): Promise<void>
}

/**
 * Compares two log ids (`<ms>-<seq>`, a missing seq counting as 0): negative, zero or
 * positive. Compares the decimal digits as numbers of any size, without parsing them (it
 * runs for every broadcast a room receives).
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0
  const aDash = dashOf(a)
  const bDash = dashOf(b)
  const aSeq = Math.min(aDash + 1, a.length)
  const bSeq = Math.min(bDash + 1, b.length)
  return compareDecimals(a, 0, aDash, b, 0, bDash) || compareDecimals(a, aSeq, a.length, b, bSeq, b.length)
}

function dashOf(id: string): number {
  const dash = id.indexOf('-')
  return dash < 0 ? id.length : dash
}

/** Compares the decimal numbers `a[aFrom, aTo)` and `b[bFrom, bTo)` (empty: 0): -1, 0 or 1. */
function compareDecimals(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): number {
  while (aFrom < aTo && a.charCodeAt(aFrom) === 48) aFrom++
  while (bFrom < bTo && b.charCodeAt(bFrom) === 48) bFrom++
  const length = aTo - aFrom
  if (length !== bTo - bFrom) return length < bTo - bFrom ? -1 : 1
  for (let i = 0; i < length; i++) {
    const difference = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i)
    if (difference !== 0) return difference < 0 ? -1 : 1
  }
  return 0
}
