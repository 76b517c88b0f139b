/**
 * Writes into the layout of `layout.ts`. A write applies the new value as a diff against
 * what is there: an object written over a dict changes only the fields that differ, a list
 * written over a list replaces only the middle between the common head and tail. So
 * concurrent edits of other fields survive, and a dashboard value like `{ value, ts }`
 * rewritten every second keeps the document bounded.
 */
import * as Y from 'yjs'
import type { DictIndex, DictRecord, IndexedEntry } from './DictIndex.ts'
import { declareDictSet } from '../intent/declared.ts'
import { appendAfter, deleteElement } from './elements.ts'
import { dictIndex } from './indexes.ts'
import {
  type DictEntry,
  type Json,
  type JsonObject,
  type PrimitiveEntry,
  type Slot,
  decodeDictEntry,
  deleteIndices,
  encodeDictEntry,
  encodeListItem,
  isPrimitive,
  scanDict,
  scanList,
  slotToJSON,
} from './layout.ts'

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Deep equality of a stored slot and a JSON value. */
export function slotEquals(slot: Slot, value: Json): boolean {
  switch (slot.kind) {
    case 'value':
      return slot.value === value
    case 'dict':
    case 'list':
      return jsonEquals(slotToJSON(slot), value)
  }
}

export function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]!))
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k]!, b[k]!))
    )
  }
  return false
}

/** Runs `fn` in a transaction of the array's document, joining the open one if any. */
function inTransaction<T>(array: Y.Array<unknown>, fn: (transaction: Y.Transaction) => T): T {
  return array.doc!.transact(fn) as T
}

/** Deletes entries of a dict's array by id, and forgets them in its index. */
function deleteRecords(transaction: Y.Transaction, index: DictIndex, records: readonly DictRecord[]): void {
  for (const { client, clock } of records) {
    deleteElement(transaction, index.array, client, clock)
    index.removeRange(client, clock, clock + 1)
  }
}

/**
 * The item a new entry of `index`'s array goes after: the one holding this client's latest
 * element when that is in the array, else the array's last item. A writer's entries then
 * follow each other in clock order wherever it writes, so that Yjs merges each run of them
 * into one item, and once overwritten into one deleted item: rewriting the same keys keeps
 * the document's size flat, however many writers take turns. Appended at the end instead,
 * the entries of writers taking turns interleave, and every overwrite leaves one deleted
 * item behind for good.
 */
function placeFor(transaction: Y.Transaction, index: DictIndex): Y.Item | null {
  // The client's structs are in clock order: its latest element is in the last one.
  const own = transaction.doc.store.clients.get(transaction.doc.clientID)
  const latest = own?.[own.length - 1]
  return latest instanceof Y.Item && latest.parent === index.array ? latest : index.lastItem()
}

/** One pass over a dict's array: the winning entry of `key` and the indices of all its entries. */
function findKey(array: Y.Array<unknown>, key: string): { current: DictEntry | undefined; indices: number[] } {
  const indices: number[] = []
  let current: DictEntry | undefined
  let index = 0
  array.forEach((raw) => {
    const entry = decodeDictEntry(raw)
    if (entry?.key === key) {
      indices.push(index)
      // Same rule as scanDict: the latest write time wins, ties go to the later entry.
      if (!current || entry.writtenAt >= current.writtenAt) current = { ...entry, index } as DictEntry
    }
    index++
  })
  return { current, indices }
}

/** The winning entry of `key`: from the dict's index, or by a scan when it has none. */
function currentEntry(array: Y.Array<unknown>, key: string): IndexedEntry | undefined {
  const index = dictIndex(array)
  return index ? index.get(key) : findKey(array, key).current
}

/**
 * Writes `key: value` into a dict's array. Same value: nothing happens. Dict over dict and
 * list over list: a diff. Otherwise every entry of `key` is removed and one is appended.
 * An expiry (`expiresAt`, ms since the epoch; top-level keys only) always writes a new entry.
 */
export function dictSet(array: Y.Array<unknown>, key: string, value: Json, expiresAt?: number): void {
  const index = dictIndex(array)
  const scanned = index ? null : findKey(array, key)
  const current = index ? index.get(key) : scanned!.current
  if (current && current.expiresAt === undefined && expiresAt === undefined) {
    if (current.kind === 'dict' && isObject(value)) return assignDict(current.value, value)
    if (current.kind === 'list' && Array.isArray(value)) return assignList(current.value, value)
    if (current.kind === 'value' && current.value === value) return
  }
  // Stay ahead of the entry being replaced even if this clock is behind the writer's.
  const writtenAt = Math.max(Date.now(), (current?.writtenAt ?? 0) + 1)
  const raw = encodeDictEntry(key, value, { expiresAt, writtenAt })
  if (!index) {
    deleteIndices(array, scanned!.indices)
    array.push([raw])
    return
  }
  inTransaction(array, (transaction) => {
    const records = index.records(key)
    deleteRecords(transaction, index, records)
    index.addItem(appendAfter(transaction, array, placeFor(transaction, index), [raw])!)
    if (isPrimitive(value)) declareDictSet(transaction, array, raw as PrimitiveEntry, records.length)
  })
}

/** Removes every entry of `key` from a dict's array; returns whether one existed. */
export function dictDelete(array: Y.Array<unknown>, key: string): boolean {
  const index = dictIndex(array)
  if (!index) {
    const doomed = findKey(array, key).indices
    deleteIndices(array, doomed)
    return doomed.length > 0
  }
  const records = index.records(key)
  if (records.length === 0) return false
  inTransaction(array, (transaction) => deleteRecords(transaction, index, records))
  return true
}

/** Deletes the entries of a dict's array that lost a concurrent write of their key. */
export function deleteLosers(array: Y.Array<unknown>): void {
  const index = dictIndex(array)
  if (!index) return deleteIndices(array, scanDict(array).shadowed)
  const losers = index.losers()
  if (losers.length > 0) inTransaction(array, (transaction) => deleteRecords(transaction, index, losers))
}

/** Removes every entry (and anything else) from a dict's array. */
export function dictClear(array: Y.Array<unknown>): void {
  if (array.length === 0) return
  const clear = (): void => {
    array.delete(0, array.length)
    dictIndex(array)?.reset()
  }
  if (array.doc) inTransaction(array, clear)
  else clear()
}

/** Makes a dict's content equal `value`, touching only the fields that differ. */
export function assignDict(array: Y.Array<unknown>, value: JsonObject): void {
  const index = dictIndex(array)
  const keys = index ? index.winners().map((entry) => entry.key) : [...scanDict(array).entries.keys()]
  for (const key of keys) if (!Object.hasOwn(value, key)) dictDelete(array, key)
  for (const [key, v] of Object.entries(value)) dictSet(array, key, v)
}

/** Makes a list's content equal `value`, replacing only the middle that differs. */
export function assignList(array: Y.Array<unknown>, value: Json[]): void {
  const items = scanList(array)
  let head = 0
  while (head < items.length && head < value.length && slotEquals(items[head]!, value[head]!)) head++
  let tail = 0
  while (
    tail < items.length - head &&
    tail < value.length - head &&
    slotEquals(items[items.length - 1 - tail]!, value[value.length - 1 - tail]!)
  ) {
    tail++
  }
  const doomed = items.slice(head, items.length - tail).map((item) => item.index)
  const fresh = value.slice(head, value.length - tail).map(encodeListItem)
  // Insert after the doomed items (before deleting them) so that each new item's left
  // neighbour is the item it replaces: repeated rewrites then merge into one deleted run.
  const last = doomed.at(-1)
  const insertAt =
    last !== undefined ? last + 1 : head < items.length ? items[head]!.index : array.length
  if (fresh.length > 0) array.insert(insertAt, fresh)
  deleteIndices(array, doomed)
}

/**
 * Applies what changed between `base` and `next` (two versions of `key` written by someone
 * outside the document) to the dict's current content, leaving everything else alone: a
 * field that differs between `base` and `next` is written, a field `next` dropped is
 * deleted, and fields the document changed meanwhile survive. Without a base (`undefined`),
 * the document's current value is the base.
 */
export function mergeDictKey(
  array: Y.Array<unknown>,
  key: string,
  base: Json | undefined,
  next: Json,
  expiresAt?: number,
): void {
  const current = currentEntry(array, key)
  if (!current || current.expiresAt !== expiresAt || base === undefined) {
    dictSet(array, key, next, expiresAt)
    return
  }
  if (current.kind === 'dict' && isObject(base) && isObject(next)) {
    for (const field of Object.keys(base)) {
      if (!Object.hasOwn(next, field)) dictDelete(current.value, field)
    }
    for (const [field, value] of Object.entries(next)) {
      const before = Object.hasOwn(base, field) ? base[field] : undefined
      if (before === undefined || !jsonEquals(before, value)) mergeDictKey(current.value, field, before, value)
    }
    return
  }
  if (!jsonEquals(base, next)) dictSet(array, key, next, expiresAt)
}
