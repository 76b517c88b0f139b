/**
 * The indexes of a document's dicts and lists (`DictIndex`, `ListIndex`), made on first use
 * and kept current from Yjs's transactions.
 *
 * Once a document has an index, every transaction on it — local writes, remote updates,
 * undo — is read once, before Yjs calls any observer ('beforeObserverCalls'): the elements
 * it inserted (from the state vector before it, in the struct store) and deleted (its delete
 * set) are given to the index of their array, and nested entries whose wrapper changed are
 * decoded again. That costs in proportion to the transaction, not to the document.
 *
 * An array that is not in a document, or whose parent entry was deleted, gets no index:
 * callers then scan it, as before the indexes existed.
 */
import * as Y from 'yjs'
import { modelCounters } from './counters.ts'
import { DictIndex } from './DictIndex.ts'
import { type Slot, decodeListItem } from './layout.ts'
import { ListIndex } from './ListIndex.ts'

const dictIndexes = new WeakMap<Y.Array<unknown>, DictIndex>()
const listIndexes = new WeakMap<Y.Array<unknown>, ListIndex>()
const watched = new WeakSet<Y.Doc>()
/** Decoded wrappers of nested list items, dropped when a transaction changes the wrapper. */
const wrapperSlots = new WeakMap<Y.Map<unknown>, Slot | null>()

/** A batch of new elements beyond this many (and a quarter of the dict) rebuilds the index. */
const REBUILD_AFTER = 32

function indexable(array: Y.Array<unknown>): Y.Doc | null {
  const doc = array.doc
  if (doc === null || array._item?.deleted) return null
  return doc
}

/** The index of a dict's array, or null when it cannot have one (scan it instead). */
export function dictIndex(array: Y.Array<unknown>): DictIndex | null {
  const doc = indexable(array)
  if (doc === null) return null
  let index = dictIndexes.get(array)
  if (!index) {
    watch(doc)
    dictIndexes.set(array, (index = new DictIndex(array)))
  }
  return index
}

/** The index of a list's array, or null when it cannot have one (scan it instead). */
export function listIndex(array: Y.Array<unknown>): ListIndex | null {
  const doc = indexable(array)
  if (doc === null) return null
  let index = listIndexes.get(array)
  if (!index) {
    watch(doc)
    listIndexes.set(array, (index = new ListIndex(array)))
  }
  return index
}

/**
 * The decoded wrapper of a nested list item, cached. Only for documents that have indexes
 * (their transactions drop changed wrappers from the cache).
 */
export function wrapperSlot(map: Y.Map<unknown>): Slot | null {
  let slot = wrapperSlots.get(map)
  if (slot === undefined) wrapperSlots.set(map, (slot = decodeListItem(map)))
  return slot
}

function watch(doc: Y.Doc): void {
  if (watched.has(doc)) return
  watched.add(doc)
  doc.on('beforeObserverCalls', onTransaction)
}

type AnyIndex = DictIndex | ListIndex

function indexOf(type: unknown): AnyIndex | undefined {
  if (!(type instanceof Y.Array)) return undefined
  const array = type as Y.Array<unknown>
  return dictIndexes.get(array) ?? listIndexes.get(array)
}

function onTransaction(transaction: Y.Transaction): void {
  try {
    indexUpdate.run(transaction)
  } catch {
    // An index that cannot follow a transaction is dropped and rebuilt on next use.
    modelCounters.indexFailures++
    for (let i = 0; i < indexUpdate.touchedCount; i++) indexUpdate.touched[i]!.reset()
    for (const type of transaction.changed.keys()) indexOf(type)?.reset()
  } finally {
    indexUpdate.clear()
  }
}

/**
 * Calls `visit` with each item `transaction` deleted (once per item, with the deleted clock
 * range within it as `from` and `to`), in the document's struct store.
 */
export function forEachDeletedItem(
  transaction: Y.Transaction,
  visit: (item: Y.Item, from: number, to: number) => void,
): void {
  const store = transaction.doc.store
  const clients = transaction.deleteSet.clients
  // Keys, then get: no entry pair allocated per client.
  for (const client of clients.keys()) {
    const deletions = clients.get(client)!
    const structs = store.clients.get(client)
    if (!structs) continue
    for (const { clock, len } of deletions) {
      const end = clock + len
      for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
        const struct = structs[i]!
        if (struct.id.clock >= end) break
        if (struct instanceof Y.Item) {
          visit(struct, Math.max(clock, struct.id.clock), Math.min(end, struct.id.clock + struct.length))
        }
      }
    }
  }
}

/**
 * Calls `visit` with each live item `transaction` inserted, with the offset of its first new
 * element as `from` (an item may have merged into one that was there before).
 */
export function forEachInsertedItem(transaction: Y.Transaction, visit: (item: Y.Item, from: number) => void): void {
  const store = transaction.doc.store
  const afterState = transaction.afterState
  for (const client of afterState.keys()) {
    const after = afterState.get(client)!
    const before = transaction.beforeState.get(client) ?? 0
    if (after === before) continue
    const structs = store.clients.get(client)
    if (!structs) continue
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const struct = structs[i]!
      if (struct instanceof Y.Item && !struct.deleted) visit(struct, Math.max(0, before - struct.id.clock))
    }
  }
}

/**
 * Gives one transaction's changes to the indexes. One instance serves every transaction
 * (the indexes start none while they update), so that a transaction costs no collections or
 * closures here: a write of one key is a few calls.
 */
class IndexUpdate {
  private transaction: Y.Transaction | null = null
  /** The indexes changed so far, repeated (reset when the update fails): the first `touchedCount`. */
  readonly touched: Array<AnyIndex | null> = []
  touchedCount = 0
  /** Existing nested entries whose wrapper changed: decoded again at the end. */
  private readonly rewrapped = new Set<Y.Item>()
  /**
   * The live items added to indexed arrays, in struct order, with their index and the offset
   * of their first new element: the first `addedCount` of each (kept, not truncated: cheaper).
   */
  private readonly addedTo: Array<AnyIndex | null> = []
  private readonly addedItems: Array<Y.Item | null> = []
  private readonly addedFrom: number[] = []
  private addedCount = 0

  run(transaction: Y.Transaction): void {
    this.transaction = transaction
    forEachDeletedItem(transaction, this.onDeleted)
    forEachInsertedItem(transaction, this.onInserted)
    const rebuilt = this.rebuiltIndexes()
    // Right to left per index, as each index's addItem expects.
    for (let i = this.addedCount - 1; i >= 0; i--) {
      const index = this.addedTo[i]!
      if (rebuilt === null || !rebuilt.has(index)) index.addItem(this.addedItems[i]!, this.addedFrom[i])
    }
    for (const item of this.rewrapped) {
      const index = indexOf(item.parent)
      if (index) index.refresh(item)
    }
  }

  clear(): void {
    this.transaction = null
    for (let i = 0; i < this.touchedCount; i++) this.touched[i] = null
    this.touchedCount = 0
    if (this.rewrapped.size > 0) this.rewrapped.clear()
    // Drop the references, so that nothing stays alive for this.
    for (let i = 0; i < this.addedCount; i++) this.addedTo[i] = this.addedItems[i] = null
    this.addedCount = 0
  }

  /** The dict indexes given too many new elements at once (more than REBUILD_AFTER and a quarter of the dict): reset, to rebuild on next use. */
  private rebuiltIndexes(): Set<AnyIndex> | null {
    let total = 0
    for (let i = 0; i < this.addedCount; i++) total += this.addedItems[i]!.length - this.addedFrom[i]!
    if (total <= REBUILD_AFTER) return null
    const counts = new Map<DictIndex, number>()
    for (let i = 0; i < this.addedCount; i++) {
      const index = this.addedTo[i]!
      if (index instanceof DictIndex) counts.set(index, (counts.get(index) ?? 0) + this.addedItems[i]!.length - this.addedFrom[i]!)
    }
    const rebuilt = new Set<AnyIndex>()
    for (const [index, count] of counts) {
      if (count > REBUILD_AFTER && count * 4 > index.entryCount) {
        index.reset()
        rebuilt.add(index)
      }
    }
    return rebuilt
  }

  /** A nested entry's wrapper map changed: decode its entry again, unless it is new. */
  private wrapperChanged(map: Y.Map<unknown>): void {
    wrapperSlots.delete(map)
    const item = map._item
    if (item === null || item.parentSub !== null || !indexOf(item.parent)) return
    if (item.id.clock < (this.transaction!.beforeState.get(item.id.client) ?? 0)) this.rewrapped.add(item)
  }

  private readonly onDeleted = (item: Y.Item, from: number, to: number): void => {
    if (item.parentSub !== null) {
      if (item.parent instanceof Y.Map) this.wrapperChanged(item.parent)
      return
    }
    const index = indexOf(item.parent)
    if (!index) return
    this.touched[this.touchedCount++] = index
    index.removeRange(item.id.client, from, to)
  }

  private readonly onInserted = (item: Y.Item, from: number): void => {
    if (item.parentSub !== null) {
      if (item.parent instanceof Y.Map) this.wrapperChanged(item.parent)
      return
    }
    const index = indexOf(item.parent)
    if (!index || !item.countable) return
    this.touched[this.touchedCount++] = index
    const i = this.addedCount++
    this.addedTo[i] = index
    this.addedItems[i] = item
    this.addedFrom[i] = from
  }
}

const indexUpdate = new IndexUpdate()
