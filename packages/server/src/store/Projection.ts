/**
 * The projection: every top-level key of a memory mirrored to a plain store key
 * `P{name}:{key}`, so that any Redis client reads and writes memories. The relay writes
 * it (`write`), learns of other writers' changes (`watch`, `read`, `claim`), and compares
 * it with its documents (`readAll`).
 *
 * The `proj` record of each key (see `recordFor`) says what the key held when a relay last
 * wrote it, or ingested it and persisted the ingest to the log. A key matching its record is
 * the relays' own doing and is never ingested; a key that does not match is an external
 * change, and `write` will not overwrite it until it has been ingested.
 *
 * Ingesting is two steps, so that a relay stopping in between loses nothing: `claim` leases
 * the change to one relay (the record then names the claimant and until when, and matches
 * no key), the claimant applies it and persists it to the log, and only then `confirm`
 * records it. A claim never confirmed lapses after its lease and the change is ingested again.
 */
import type { Json } from '@remem/client/protocol'

/** One key to project: its value (undefined deletes it) and optional expiry (ms epoch). */
export interface ProjectionWrite {
  key: string
  value: Json | undefined
  expiresAt?: number
}

/** What a projection key holds now. */
export type KeyRead =
  | { kind: 'value'; value: Json; raw: string | null; expiresAt?: number }
  | { kind: 'absent' }
  | { kind: 'unsupported'; type: string }

/** Result of a projection write. */
export interface WriteResult {
  /** Keys written (or deleted). */
  written: number
  /** Keys not written because they hold an external change that was not ingested yet. */
  conflicts: string[]
  /** Keys not written because a relay claimed their change and has not confirmed it yet. */
  waiting: string[]
}

/** What `claim` decided. */
export type ClaimResult =
  /**
   * The caller applies the change, persists it, then calls `confirm`. `replaced`: the value
   * hashes (`valueHash`) of what the key may last have held as a relay wrote or ingested it,
   * newest first: the record's; when the claim takes over a claim never confirmed, what that
   * claim read and what it replaced in turn. Empty when nothing was recorded.
   */
  | { kind: 'claimed'; replaced: string[] }
  /** Nothing to apply: already recorded, or changed again since it was read (that change brings its own event). */
  | { kind: 'skip' }
  /** Another relay claimed it and has not confirmed yet; its lease lapses within `retryMs`. */
  | { kind: 'busy'; retryMs: number }
  /**
   * The claim did not reach `ackReplicas` replicas in time, so a failover could undo it: not
   * to be applied. Claim again later (this relay's own lease, if it stayed, is taken again).
   */
  | { kind: 'unreplicated' }

/** A change another client made to a projection key (a keyspace notification). */
export interface KeyEvent {
  name: string
  key: string
  /** The Redis event: set, del, expired, evicted, rename_from, hset, … */
  event: string
}

export type KeyspaceMode = 'on' | 'off'

export interface Projection {
  /**
   * Writes each key whose value differs from its record, deletes keys whose value is
   * undefined, and records what it wrote. Leaves keys holding un-ingested changes alone.
   */
  write(name: string, writes: ProjectionWrite[]): Promise<WriteResult>
  /** Reads one projection key (with its expiry). */
  read(name: string, key: string): Promise<KeyRead>
  /** Every projection key of a memory, and the records. */
  readAll(name: string): Promise<{ keys: Map<string, KeyRead>; recorded: Map<string, string> }>
  /**
   * Claims the ingestion of what `read` found for `owner` (a relay id) for `leaseMs`, unless
   * it is already recorded, the key changed since, or another relay's claim has not lapsed.
   */
  claim(name: string, key: string, read: KeyRead, owner: string, leaseMs: number): Promise<ClaimResult>
  /**
   * Records what `read` found, once the claimant persisted its ingest to the log; does
   * nothing when `owner`'s claim of that read was superseded. A bare (unwrapped) text is
   * rewritten in the wrapped layout if it is still there.
   */
  confirm(name: string, key: string, read: KeyRead, owner: string): Promise<void>
  /**
   * Calls `listener` for changes to projection keys. With keyspace 'on' the store is set up
   * to notify (Redis: `notify-keyspace-events`); it throws, naming the command to run,
   * where that is not allowed. `onGap` runs when events may have been missed (the
   * notification connection was re-established); callers reconcile then.
   */
  watch(listener: (event: KeyEvent) => void, onGap?: () => void): Promise<() => Promise<void>>
}

/** Splits a projection key `P{name}:{key}` into name and key, or null if it is not one. */
export function splitProjectionKey(prefix: string, fullKey: string): { name: string; key: string } | null {
  if (!fullKey.startsWith(prefix)) return null
  const rest = fullKey.slice(prefix.length)
  const colon = rest.indexOf(':')
  if (colon <= 0) return null
  return { name: rest.slice(0, colon), key: rest.slice(colon + 1) }
}
