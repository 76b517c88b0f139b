/**
 * A synced list: a view over one list node of a memory (see `model/layout.ts`).
 *
 * A list's array may hold elements that are not items (written by a buggy or hostile peer).
 * Readers skip them, so public indices count items only; writers translate them to indices
 * in the array. While there are none (the usual case), positions go straight to the array
 * (see `model/listAccess.ts`).
 */
import type * as Y from 'yjs'
import { type Json, encodeListItem, listToJSON, slotToJSON } from './model/layout.ts'
import { type ListItems, listAppend, listItems, listSlots } from './model/listAccess.ts'
import { indexPath } from './model/path.ts'
import { SYNCED } from './model/synced.ts'
import { toJson } from './model/validate.ts'
import type { SyncedValue, ViewContext } from './model/ViewContext.ts'
import { assignDict, assignList } from './model/write.ts'

/**
 * An ordered list of JSON values, synced with every other copy of its memory. Nested objects
 * come back as `SyncedDict`s and arrays as `SyncedList`s.
 *
 * Concurrent inserts are all kept. Writes validate first: on a `ValidationError` or a
 * `RangeError` nothing changes.
 *
 * @example
 * const todos = mem.get<SyncedList>('todos')!
 * todos.push({ text: 'b' })
 * todos.move(1, 0)
 * todos.toJSON() // [{ text: 'b' }, { text: 'a' }]
 */
export class SyncedList {
  readonly #array: Y.Array<unknown>
  readonly #context: ViewContext

  /** Views are made by a `ViewContext`; use `context.listView(array)` to share instances. */
  constructor(array: Y.Array<unknown>, context: ViewContext) {
    this.#array = array
    this.#context = context
  }

  /** The number of items. */
  get length(): number {
    return listItems(this.#array).length
  }

  /**
   * The item at `index`: a primitive, a `SyncedDict`, a `SyncedList`, or `undefined` when
   * there is no such item. The type parameter is a cast for convenience.
   */
  get<T extends SyncedValue = SyncedValue>(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0) return undefined
    const items = listItems(this.#array)
    return index < items.length ? (this.#context.slotValue(items.at(index)) as T) : undefined
  }

  /**
   * Appends values; returns the new length.
   *
   * @example
   * todos.push({ text: 'a' }, { text: 'b' })
   */
  push(...values: unknown[]): number {
    const items = this.#prepare()
    const json = validateAll(values, items.length)
    this.#context.transact(() => listAppend(this.#array, json.map(encodeListItem)))
    return items.length + json.length
  }

  /** Inserts values at the start; returns the new length. */
  unshift(...values: unknown[]): number {
    this.insert(0, ...values)
    return this.length
  }

  /**
   * Inserts values so that the first one ends up at `index` (0 to `length`).
   *
   * @example
   * todos.insert(1, { text: 'between' })
   */
  insert(index: number, ...values: unknown[]): void {
    const items = this.#prepare()
    checkIndex('index', index, items.length, items.length)
    const json = validateAll(values, index)
    if (json.length === 0) return
    this.#context.transact(() => {
      this.#array.insert(items.rawIndex(index), json.map(encodeListItem))
    })
  }

  /**
   * Removes `count` items starting at `index`.
   *
   * @example
   * todos.delete(0) // the first item
   * todos.delete(2, 3) // items 2, 3 and 4
   */
  delete(index: number, count = 1): void {
    const items = this.#prepare()
    checkIndex('index', index, items.length - 1, items.length)
    checkIndex('count', count, items.length - index, items.length)
    this.#context.transact(() => removeItems(this.#array, items, index, count))
  }

  /**
   * Replaces the item at `index`. An object written over a dict, or an array over a list,
   * changes only what differs, so concurrent edits of other fields survive.
   *
   * @example
   * todos.set(0, { text: 'a', done: true })
   */
  set(index: number, value: unknown): void {
    const items = this.#prepare()
    checkIndex('index', index, items.length - 1, items.length)
    const json = toJson(value, indexPath('', index))
    const item = items.at(index)
    this.#context.transact(() => {
      if (item.kind === 'dict' && isObject(json)) return assignDict(item.value, json)
      if (item.kind === 'list' && Array.isArray(json)) return assignList(item.value, json)
      if (item.kind === 'value' && item.value === json) return
      // Insert right after the old item, then delete it: repeated replacements then merge
      // into one deleted run in the encoded document.
      this.#array.insert(item.index + 1, [encodeListItem(json)])
      this.#array.delete(item.index, 1)
    })
  }

  /**
   * Moves the item at `from` so that it ends up at index `to`. A move is a delete and an
   * insert of a copy: edits made concurrently inside the moved item are lost, and two
   * concurrent moves of one item leave two copies.
   *
   * @example
   * list.toJSON() // ['a', 'b', 'c']
   * list.move(0, 2)
   * list.toJSON() // ['b', 'c', 'a']
   */
  move(from: number, to: number): void {
    const items = this.#prepare()
    checkIndex('from', from, items.length - 1, items.length)
    checkIndex('to', to, items.length - 1, items.length)
    if (from === to) return
    const item = items.at(from)
    const json = slotToJSON(item)
    this.#context.transact(() => {
      this.#array.delete(item.index, 1)
      this.#array.insert(listItems(this.#array).rawIndex(to), [encodeListItem(json)])
    })
  }

  /** Removes the last item and returns it as JSON (`undefined` when empty). */
  pop(): Json | undefined {
    const length = this.#prepare().length
    return length === 0 ? undefined : this.splice(length - 1, 1)[0]
  }

  /** Removes the first item and returns it as JSON (`undefined` when empty). */
  shift(): Json | undefined {
    return this.#prepare().length === 0 ? undefined : this.splice(0, 1)[0]
  }

  /**
   * Removes and inserts items as `Array.prototype.splice` does (negative `start` counts from
   * the end, out-of-range values are clamped); returns the removed items as JSON.
   *
   * @example
   * list.splice(1, 2, 'x') // removes items 1 and 2, inserts 'x' there
   */
  splice(start: number, deleteCount?: number, ...values: unknown[]): Json[] {
    const items = this.#prepare()
    const from = clamp(start < 0 ? items.length + toInteger(start) : toInteger(start), items.length)
    const count =
      deleteCount === undefined
        ? items.length - from
        : clamp(toInteger(deleteCount), items.length - from)
    const json = validateAll(values, from)
    const removed = items.slice(from, from + count).map(slotToJSON)
    if (count === 0 && json.length === 0) return removed
    this.#context.transact(() => {
      if (json.length > 0) {
        this.#array.insert(items.rawIndex(from + count), json.map(encodeListItem))
      }
      removeItems(this.#array, items, from, count)
    })
    return removed
  }

  /** Removes every item. */
  clear(): void {
    this.#context.assertWritable()
    this.#context.transact(() => this.#array.delete(0, this.#array.length))
  }

  /** The items as values: primitives and nested views. */
  toArray(): SyncedValue[] {
    return listSlots(this.#array).map((item) => this.#context.slotValue(item))
  }

  /** A plain JSON copy of the content. */
  toJSON(): Json[] {
    return listToJSON(this.#array)
  }

  /** Array-style helpers over {@link toArray}. */
  map<U>(fn: (value: SyncedValue, index: number) => U): U[] {
    return this.toArray().map((value, index) => fn(value, index))
  }

  forEach(fn: (value: SyncedValue, index: number) => void): void {
    this.toArray().forEach((value, index) => fn(value, index))
  }

  filter(fn: (value: SyncedValue, index: number) => boolean): SyncedValue[] {
    return this.toArray().filter((value, index) => fn(value, index))
  }

  find(fn: (value: SyncedValue, index: number) => boolean): SyncedValue | undefined {
    return this.toArray().find((value, index) => fn(value, index))
  }

  /** The index of the first item that is `value` (a primitive or a view), or -1. */
  indexOf(value: unknown): number {
    return this.toArray().indexOf(value as SyncedValue)
  }

  [Symbol.iterator](): IterableIterator<SyncedValue> {
    return this.toArray()[Symbol.iterator]()
  }

  [SYNCED](): Json[] {
    return this.toJSON()
  }

  /** Checks that the list may be written, and reads its items. */
  #prepare(): ListItems {
    this.#context.assertWritable()
    return listItems(this.#array)
  }
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function validateAll(values: unknown[], firstIndex: number): Json[] {
  return values.map((value, i) => toJson(value, indexPath('', firstIndex + i)))
}

/** Deletes items `from` to `from + count - 1` (and any non-items between them). */
function removeItems(array: Y.Array<unknown>, items: ListItems, from: number, count: number): void {
  if (count === 0) return
  const first = items.rawIndex(from)
  const last = items.rawIndex(from + count - 1)
  array.delete(first, last - first + 1)
}

/** Throws a RangeError unless `value` is an integer from 0 to `max`. */
function checkIndex(name: string, value: number, max: number, length: number): void {
  if (Number.isInteger(value) && value >= 0 && value <= max) return
  const range = max < 0 ? 'the list is empty' : `use an integer from 0 to ${max}`
  throw new RangeError(`${name} ${String(value)} is out of range: ${range} (length ${length})`)
}

function toInteger(value: number): number {
  return Number.isNaN(value) ? 0 : Math.trunc(value)
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max)
}
