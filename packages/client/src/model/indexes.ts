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
  const touched = new Set<AnyIndex>()
  try {
    update(transaction, touched)
  } catch {
    // An index that cannot follow a transaction is dropped and rebuilt on next use.
    modelCounters.indexFailures++
    for (const index of touched) index.reset()
    for (const type of transaction.changed.keys()) indexOf(type)?.reset()
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
  for (const [client, deletions] of transaction.deleteSet.clients) {
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
  for (const [client, after] of transaction.afterState) {
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

function update(transaction: Y.Transaction, touched: Set<AnyIndex>): void {
  const rewrapped = new Set<Y.Item>()
  /** A nested entry's wrapper map changed: decode its entry again, unless it is new. */
  const wrapperChanged = (map: Y.Map<unknown>): void => {
    wrapperSlots.delete(map)
    const item = map._item
    if (item === null || item.parentSub !== null || !indexOf(item.parent)) return
    if (item.id.clock < (transaction.beforeState.get(item.id.client) ?? 0)) rewrapped.add(item)
  }
  forEachDeletedItem(transaction, (item, from, to) => {
    if (item.parentSub !== null) {
      if (item.parent instanceof Y.Map) wrapperChanged(item.parent)
      return
    }
    const index = indexOf(item.parent)
    if (!index) return
    touched.add(index)
    index.removeRange(item.id.client, from, to)
  })
  const added = new Map<AnyIndex, Array<[Y.Item, number]>>()
  forEachInsertedItem(transaction, (item, from) => {
    if (item.parentSub !== null) {
      if (item.parent instanceof Y.Map) wrapperChanged(item.parent)
      return
    }
    const index = indexOf(item.parent)
    if (!index || !item.countable) return
    touched.add(index)
    let items = added.get(index)
    if (!items) added.set(index, (items = []))
    items.push([item, from])
  })
  for (const [index, items] of added) {
    if (index instanceof DictIndex) {
      const count = items.reduce((sum, [item, from]) => sum + item.length - from, 0)
      if (count > REBUILD_AFTER && count * 4 > index.entryCount) {
        index.reset()
        continue
      }
    }
    for (let i = items.length - 1; i >= 0; i--) index.addItem(...items[i]!)
  }
  for (const item of rewrapped) {
    const index = indexOf(item.parent)
    if (index) index.refresh(item)
  }
}
