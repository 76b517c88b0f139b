/**
 * Where a list's items sit in its array. While the list holds nothing but items (its
 * `ListIndex` counts no strays), item i is element i of the array, and `Y.Array`'s position
 * cache finds it without a scan; otherwise the array is scanned, as before the indexes.
 */
import * as Y from 'yjs'
import { appendAfter, isLive } from './elements.ts'
import { listIndex, wrapperSlot } from './indexes.ts'
import { type Slot, decodeListItem, isPrimitive, scanList } from './layout.ts'
import { modelCounters } from './counters.ts'

/** An item and its index in the list's array. */
export type PlacedItem = Slot & { index: number }

/** Positions of a list's items, read at one moment (re-read after changing the list). */
export interface ListItems {
  readonly length: number
  /** Item `i`, for 0 ≤ i < length. */
  at(i: number): PlacedItem
  /** The array index of item `i` (for i = length: the array's length, where appends go). */
  rawIndex(i: number): number
  /** Items `from` to `to - 1`. */
  slice(from: number, to: number): Slot[]
}

/** The positions of `array`'s items: direct when it holds only items, else scanned. */
export function listItems(array: Y.Array<unknown>): ListItems {
  const index = listIndex(array)
  return index && index.strays === 0 ? new DirectItems(array) : new ScannedItems(array, scanList(array))
}

/**
 * Appends raw elements (see `encodeListItem`) at the end of a list's array, after its last
 * known item instead of walking the array from its start or last search marker.
 */
export function listAppend(array: Y.Array<unknown>, raws: unknown[]): void {
  const index = listIndex(array)
  if (raws.length === 0) return
  if (!index) return array.push(raws)
  array.doc!.transact((transaction) => {
    const last = appendAfter(transaction, array, index.lastItem(), raws)
    if (last) index.noteEnd(last)
  })
}

/** Every item of `array`, in order; nested items decoded once and cached while unchanged. */
export function listSlots(array: Y.Array<unknown>): Slot[] {
  const index = listIndex(array)
  if (!index || index.strays > 0) return scanList(array)
  const slots: Slot[] = []
  for (let item = array._start; item !== null; item = item.right) {
    if (!isLive(item)) continue
    const content = item.content
    if (content instanceof Y.ContentAny) {
      for (const value of content.arr) {
        modelCounters.visited++
        if (isPrimitive(value)) slots.push({ kind: 'value', value })
        else return scanList(array) // a stray the index missed: cannot happen, but stay right
      }
    } else if (content instanceof Y.ContentType && content.type instanceof Y.Map) {
      modelCounters.visited++
      const slot = wrapperSlot(content.type as Y.Map<unknown>)
      if (!slot) return scanList(array)
      slots.push(slot)
    } else {
      return scanList(array)
    }
  }
  return slots
}

/** Item i is element i: positions go through the array's own position cache. */
class DirectItems implements ListItems {
  readonly #array: Y.Array<unknown>
  readonly length: number

  constructor(array: Y.Array<unknown>) {
    this.#array = array
    this.length = array.length
  }

  at(i: number): PlacedItem {
    const slot = decodeListItem(this.#array.get(i))
    if (!slot) {
      listIndex(this.#array)?.reset()
      throw new Error(`remem: list element ${i} is not an item; its index was out of date (now rebuilt): retry`)
    }
    return { ...slot, index: i }
  }

  rawIndex(i: number): number {
    return i
  }

  slice(from: number, to: number): Slot[] {
    if (to - from <= 8) {
      const out: Slot[] = []
      for (let i = from; i < to; i++) out.push(this.at(i))
      return out
    }
    return this.#array.slice(from, to).map((raw, i) => {
      const slot = decodeListItem(raw)
      if (!slot) throw new Error(`remem: list element ${from + i} is not an item`)
      return slot
    })
  }
}

/** Positions from a scan of the array (it holds elements that are not items). */
class ScannedItems implements ListItems {
  readonly #array: Y.Array<unknown>
  readonly #items: PlacedItem[]
  readonly length: number

  constructor(array: Y.Array<unknown>, items: PlacedItem[]) {
    this.#array = array
    this.#items = items
    this.length = items.length
  }

  at(i: number): PlacedItem {
    return this.#items[i]!
  }

  rawIndex(i: number): number {
    return this.#items[i]?.index ?? this.#array.length
  }

  slice(from: number, to: number): Slot[] {
    return this.#items.slice(from, to)
  }
}
