/**
 * Keeps one memory's document and its projection keys in step, both ways.
 *
 * Out: top-level keys changed by a transaction (any origin) are written to the projection
 * at most every `coalesceMs`. Writes of a value already recorded are skipped by the store,
 * so several relays holding the memory write each value once.
 * In: a change event for a projection key is read, claimed (only one relay applies a
 * given change, and the relays' own writes are never claimed), and merged into the document
 * against the last value this relay knew, so concurrent edits of other fields survive. The
 * claim is confirmed only once the room persisted the merge to the log: until then the key
 * still reads as un-ingested, so a relay stopping in between (shutdown, crash) loses nothing;
 * its claim lapses after `leaseMs` and the change is ingested again. On one Redis, the events
 * of this relay's own writes do not get here: the store recognises them (`OwnWriteEvents`).
 * Reconcile compares every projection key with its record when the memory loads and after
 * a Redis reconnect.
 *
 * Per transaction the work follows the transaction, not the memory: the keys it changed come
 * from what it inserted and deleted (`RootWinners`), values are read through the root's
 * `DictIndex`. Only reconcile reads the whole document.
 */
import {
  type DictIndex,
  type Json,
  decodeDictEntry,
  dictDelete,
  getRoot,
  jsonEquals,
  mergeDictKey,
  scanDict,
  slotToJSON,
} from '@remem/client/protocol'
import type * as Y from 'yjs'
import type { Logger } from './logger.ts'
import { RootWinners, rootIndex } from './RootWinners.ts'
import type { KeyRead, Projection, ProjectionWrite } from './store/Projection.ts'
import { recordFor, valueHash } from './store/projectionFormat.ts'

/** Origin of document changes that came from the projection. */
export const INGEST_ORIGIN = Symbol('remem.ingest')

/** Counters shared by the bridges of one relay. */
export interface ProjectionStats {
  /** External changes applied to documents. */
  ingests: number
  /** Projection keys written or deleted. */
  projected: number
}

export interface BridgeOptions {
  projection: Projection
  logger: Logger
  stats: ProjectionStats
  /** Longest time a change waits before it is projected. */
  coalesceMs: number
  /** Who claims ingests: the relay's id. */
  owner: string
  /** How long another relay waits before taking over an ingest this relay never confirmed. */
  leaseMs: number
  /**
   * Resolves true once every document change made so far is persisted to the log, false
   * when the memory closed first (then an ingest stays unconfirmed, and its claim lapses).
   */
  persisted: () => Promise<boolean>
}

const RETRY_MS = 500

export class ProjectionBridge {
  private readonly dirty = new Set<string>()
  /** The winning entry of each top-level key, to spot replaced and removed keys. */
  private readonly winners: RootWinners
  /** What each key held when this relay last projected or ingested it: the merge base. */
  private readonly bases = new Map<string, Json>()
  private readonly queuedIngests = new Set<string>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private chain: Promise<void> = Promise.resolve()
  /** Ingests applied and waiting to be persisted, then confirmed. */
  private readonly confirming = new Set<Promise<void>>()
  /** Closing: the last flush projects, but nothing is ingested any more. */
  private closing = false
  private closed = false

  constructor(
    readonly name: string,
    private readonly doc: Y.Doc,
    private readonly options: BridgeOptions,
  ) {
    this.winners = new RootWinners(doc)
    doc.on('afterTransaction', this.onTransaction)
    asEmitter(doc).on('remem:epoch', this.onEpoch)
  }

  private get root(): Y.Array<unknown> {
    return getRoot(this.doc)
  }

  /** The root's index: each key's winner without a scan. */
  private get index(): DictIndex {
    return rootIndex(this.doc)
  }

  private readonly onTransaction = (transaction: Y.Transaction): void => {
    const root = this.root
    if (!transaction.changedParentTypes.has(root)) return
    for (const type of transaction.changedParentTypes.keys()) {
      if (type === root) continue
      const key = topLevelKey(type, root)
      if (key !== null) this.dirty.add(key)
    }
    let changed: string[]
    try {
      changed = this.winners.changed(transaction)
    } catch (error) {
      this.options.logger.warn('projection could not follow a change; rereading the memory', {
        memory: this.name,
        error: String(error),
      })
      changed = this.winners.resync()
    }
    for (const key of changed) this.dirty.add(key)
    if (this.dirty.size > 0) this.schedule(this.options.coalesceMs)
  }

  /**
   * The document is being replaced by a new epoch (`replaceDocument`): its keys are projected
   * again once the new content is in, as are the new epoch's keys (all inserted by it).
   */
  private readonly onEpoch = (): void => {
    for (const key of this.winners.clear()) this.dirty.add(key)
    if (this.dirty.size > 0) this.schedule(this.options.coalesceMs)
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.flush()
    }, delayMs)
  }

  /** Runs `task` after the bridge's other work, never concurrently with it. */
  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.closed ? undefined : task()))
    this.chain = run.catch((error: unknown) => {
      this.options.logger.warn('projection work failed; will retry', { memory: this.name, error: String(error) })
      this.schedule(RETRY_MS)
    })
    return run
  }

  /** Writes every dirty key to the projection now. */
  flush(): Promise<void> {
    return this.serial(async () => {
      if (this.dirty.size === 0) return
      const keys = [...this.dirty]
      this.dirty.clear()
      const index = this.index
      const writes: ProjectionWrite[] = keys.map((key) => {
        const entry = index.get(key)
        if (!entry) return { key, value: undefined }
        const value = slotToJSON(entry)
        return entry.expiresAt === undefined ? { key, value } : { key, value, expiresAt: entry.expiresAt }
      })
      let result
      try {
        result = await this.options.projection.write(this.name, writes)
      } catch (error) {
        for (const key of keys) this.dirty.add(key)
        throw error
      }
      this.options.stats.projected += result.written
      const skipped = new Set([...result.conflicts, ...result.waiting])
      for (const write of writes) {
        if (skipped.has(write.key)) continue
        if (write.value === undefined) this.bases.delete(write.key)
        else this.bases.set(write.key, write.value)
      }
      // Keys whose ingest is claimed but not persisted yet: project them once it is confirmed
      // (or the claim lapsed).
      for (const key of result.waiting) this.dirty.add(key)
      if (result.waiting.length > 0) this.schedule(RETRY_MS)
      // While closing, external changes are left to the next relay to hold the memory: an
      // ingest now could not be persisted.
      if (this.closing) return
      // Keys holding an external change nobody ingested: ingest it, then project again.
      for (const key of result.conflicts) {
        const outcome = await this.ingestNow(key)
        // Applied: the key is projected once the ingest is confirmed.
        if (outcome !== 'claimed') this.dirty.add(key)
      }
      if (result.conflicts.length > 0) this.schedule(this.options.coalesceMs)
    })
  }

  /** Handles a change event for `key` from the store. */
  onKeyEvent(key: string): void {
    if (this.closing || this.queuedIngests.has(key)) return
    this.queuedIngests.add(key)
    void this.serial(async () => {
      this.queuedIngests.delete(key)
      await this.ingestNow(key)
    })
  }

  /** Reads, claims and applies the change at `key`; confirms it once persisted. */
  private async ingestNow(key: string, known?: KeyRead): Promise<'claimed' | 'skip' | 'busy' | 'unreplicated'> {
    const read = known ?? (await this.options.projection.read(this.name, key))
    if (read.kind === 'unsupported') {
      this.options.logger.warn('projection key holds a type remem does not map; skipped', {
        memory: this.name,
        key,
        type: read.type,
      })
      return 'skip'
    }
    const { owner, leaseMs } = this.options
    const claim = await this.options.projection.claim(this.name, key, read, owner, leaseMs)
    if (claim.kind === 'busy') {
      // Another relay is ingesting it: projecting waits for its confirm or its lapsed claim.
      this.dirty.add(key)
      this.schedule(Math.min(RETRY_MS, claim.retryMs))
      return 'busy'
    }
    if (claim.kind === 'skip') return 'skip'
    if (claim.kind === 'unreplicated') {
      // Not applied: the replicas may never hold the claim. Claimed again in a while.
      setTimeout(() => this.onKeyEvent(key), RETRY_MS).unref?.()
      return 'unreplicated'
    }
    this.options.stats.ingests++
    this.apply(key, read, claim.replaced)
    this.confirmWhenPersisted(key, read)
    return 'claimed'
  }

  /** Records the ingest of `read` once the document change is in the log, then projects `key`. */
  private confirmWhenPersisted(key: string, read: KeyRead): void {
    const done = this.options
      .persisted()
      .then(async (persisted) => {
        if (!persisted) {
          // Dropped (its epoch was left, or the memory closed): the document never got it, so
          // it is no merge base. Its claim lapses and the key is ingested again, in full.
          this.bases.delete(key)
          return
        }
        await this.options.projection.confirm(this.name, key, read, this.options.owner)
        this.dirty.add(key)
        this.schedule(0)
      })
      .catch((error: unknown) => {
        // The claim stays until it lapses; projecting `key` finds it then and ingests again.
        this.options.logger.warn('confirming an ingest failed; it will be ingested again', {
          memory: this.name,
          key,
          error: String(error),
        })
        this.dirty.add(key)
        this.schedule(RETRY_MS)
      })
      .finally(() => this.confirming.delete(done))
    this.confirming.add(done)
  }

  /** Applies `read` to the document; `replaced`: what the key may last have held as recorded (see `ClaimResult`). */
  private apply(key: string, read: KeyRead, replaced: string[]): void {
    const root = this.root
    const current = this.index.get(key)
    const currentValue = current ? slotToJSON(current) : undefined
    const base = this.bases.get(key)
    this.doc.transact(() => {
      if (read.kind === 'value') {
        mergeDictKey(root, key, base, read.value, read.expiresAt)
      } else if (current && this.unchangedSince(base, replaced, currentValue!, current.expiresAt)) {
        dictDelete(root, key)
      }
    }, INGEST_ORIGIN)
    if (read.kind === 'value') this.bases.set(key, read.value)
    else this.bases.delete(key)
  }

  /**
   * Whether the document's value of a key is what the key held before an external delete,
   * so that the delete wins: the document did not change the key since this relay last saw
   * it (`base`), or it holds what the key's record says the key last held (`replaced`: another
   * relay may have ingested a newer value that this relay has not projected yet, or claimed
   * the delete and stopped before confirming it).
   */
  private unchangedSince(base: Json | undefined, replaced: string[], value: Json, expiresAt?: number): boolean {
    return base === undefined || jsonEquals(base, value) || replaced.includes(valueHash(value, expiresAt))
  }

  /** Compares every projection key with its record and the document; fixes what differs. */
  reconcile(): Promise<void> {
    return this.serial(async () => {
      if (this.closing) return
      const { keys, recorded } = await this.options.projection.readAll(this.name)
      const { entries } = scanDict(this.root)
      for (const key of new Set([...keys.keys(), ...recorded.keys(), ...entries.keys()])) {
        const read: KeyRead = keys.get(key) ?? { kind: 'absent' }
        const record = recorded.get(key)
        const matches =
          read.kind === 'absent'
            ? record === undefined
            : read.kind === 'value' && record === recordFor(read.value, read.expiresAt, read.raw)
        if (matches) {
          // The key holds what a relay wrote: the document is at least as new.
          if (read.kind === 'value') this.bases.set(key, read.value)
        } else {
          await this.ingestNow(key, read)
        }
        this.dirty.add(key)
      }
      this.schedule(0)
    })
  }

  /**
   * Projects what is dirty without ingesting anything more, waits for the confirms of
   * ingests already persisted, then stops. Call once the room persisted what it could.
   */
  async close(): Promise<void> {
    this.closing = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.flush().catch(() => undefined)
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.doc.off('afterTransaction', this.onTransaction)
    asEmitter(this.doc).off('remem:epoch', this.onEpoch)
    await Promise.all(this.confirming)
  }
}

/** The document as an emitter of remem's own events ('remem:epoch' is not in Yjs' event types). */
function asEmitter(doc: Y.Doc): { on(name: string, f: () => void): void; off(name: string, f: () => void): void } {
  return doc as unknown as { on(name: string, f: () => void): void; off(name: string, f: () => void): void }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Yjs types nest `any` events
type AnyType = Y.AbstractType<any>

/** The top-level key whose value contains `type`, or null. */
function topLevelKey(type: AnyType, root: Y.Array<unknown>): string | null {
  let current: AnyType = type
  while (current._item) {
    const parent = current._item.parent as AnyType | null
    if (parent === root) return decodeDictEntry(current)?.key ?? null
    if (!parent) return null
    current = parent
  }
  return null
}
