/**
 * Immutable snapshots of a memory with structural sharing: each dict and list node keeps its
 * frozen plain value until a transaction changes it or anything below it. So `getSnapshot()`
 * returns the same object until something changes, and after a change, unchanged subtrees
 * keep their identity (`prev.a === next.a` when only `b` changed), which is what React's
 * `useSyncExternalStore` and memoised selectors want.
 *
 * A node is rebuilt from its index (`DictIndex`, `listSlots`), which decodes nothing: after
 * one change, the work is one shallow copy per node on the changed path.
 */
import * as Y from 'yjs'
import {
  type Json,
  type JsonObject,
  type NodeKind,
  getRoot,
  scanDict,
  setOwn,
} from './layout.ts'
import { modelCounters } from './counters.ts'
import { dictIndex } from './indexes.ts'
import { listSlots } from './listAccess.ts'

/**
 * Caches frozen plain values of a document's nodes, and drops those a transaction changed.
 *
 * @example
 * const cache = new SnapshotCache(doc)
 * const before = cache.snapshot()
 * cache.snapshot() === before // true until the document changes
 */
export class SnapshotCache {
  readonly #doc: Y.Doc
  /** The key in `transaction.meta` of a transaction whose changes were already dropped from the cache. */
  readonly #settled = Symbol('remem.snapshotSettled')
  readonly #values: Record<NodeKind, WeakMap<Y.Array<unknown>, Json>> = {
    dict: new WeakMap(),
    list: new WeakMap(),
  }

  /** Starts listening to `doc`; listeners of `afterTransaction` added later see fresh snapshots. */
  constructor(doc: Y.Doc) {
    this.#doc = doc
    doc.on('afterTransaction', this.invalidate)
  }

  /** The frozen plain value of the whole memory (its root dict). */
  snapshot(): JsonObject {
    return this.#build('dict', getRoot(this.#doc), this.#pendingChanges()) as JsonObject
  }

  /**
   * Drops the cached values of the nodes a transaction changed and of their ancestors.
   * Called on every `afterTransaction` of the document.
   */
  readonly invalidate = (transaction: Y.Transaction): void => {
    transaction.meta.set(this.#settled, true)
    // changedParentTypes holds every changed type and all its ancestors (write-once wrapper
    // maps included), so dropping its arrays drops each path up to the root.
    for (const type of transaction.changedParentTypes.keys()) {
      if (type instanceof Y.Array) {
        this.#values.dict.delete(type)
        this.#values.list.delete(type)
      }
    }
  }

  /** Stops listening to the document. */
  destroy(): void {
    this.#doc.off('afterTransaction', this.invalidate)
  }

  /**
   * While a transaction is open or awaits its cleanup, the nodes it changed (and their
   * ancestors) are still cached with old values: collect them, so that they are rebuilt.
   * Nothing is cached while a transaction is open: a node created in it and changed later in
   * it would not be reported as changed.
   */
  #pendingChanges(): { dirty: Set<unknown>; cache: boolean } | null {
    const open = this.#doc._transaction
    if (open === null && this.#doc._transactionCleanups.length === 0) return null
    const pending = this.#doc._transactionCleanups.filter((tr) => !tr.meta.has(this.#settled))
    if (open === null && pending.length === 0) return null
    const dirty = new Set<unknown>()
    for (const transaction of pending) {
      for (const changed of transaction.changed.keys()) {
        let type: Y.Item['parent'] = changed
        while (type instanceof Y.AbstractType && !dirty.has(type)) {
          dirty.add(type)
          type = type._item?.parent ?? null
        }
      }
    }
    return { dirty, cache: open === null }
  }

  #build(
    kind: NodeKind,
    array: Y.Array<unknown>,
    pending: { dirty: Set<unknown>; cache: boolean } | null,
  ): Json {
    const cached = this.#values[kind].get(array)
    if (cached !== undefined && !pending?.dirty.has(array)) return cached
    modelCounters.snapshotNodes++
    let value: Json
    if (kind === 'dict') {
      const out: JsonObject = {}
      const index = dictIndex(array)
      const winners = index ? index.winners() : [...scanDict(array).entries.values()]
      for (let i = 0; i < winners.length; i++) {
        const entry = winners[i]!
        const child = entry.kind === 'value' ? entry.value : this.#build(entry.kind, entry.value, pending)
        if (entry.key === '__proto__') setOwn(out, entry.key, child)
        else out[entry.key] = child
      }
      value = Object.freeze(out)
    } else {
      const slots = listSlots(array)
      const out = new Array<Json>(slots.length)
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!
        out[i] = slot.kind === 'value' ? slot.value : this.#build(slot.kind, slot.value, pending)
      }
      value = Object.freeze(out) as Json[]
    }
    if (!pending || pending.cache) this.#values[kind].set(array, value)
    return value
  }
}
