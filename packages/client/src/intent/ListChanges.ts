/**
 * What one transaction did to one list's array, with the positions the intent recorder
 * (record.ts) needs, found from the changed items instead of by walking the list from its
 * start: the cost is the change and the few items around it, not the list.
 *
 * After the transaction, an element's index is the number of live elements left of it. It is
 * counted by walking outwards from its item, both ways, to the nearest item whose index is
 * known: the start, the end (the array keeps its length), an item already placed, or one of
 * Yjs's search markers (item → index pairs that a local edit leaves next to the place it
 * edited; they are exact for local transactions, which is what is recorded). Before the
 * transaction, an index is that, less the new live elements left of it, plus the removed
 * ones: both are changed items, and few.
 */
import type * as Y from 'yjs'
import { modelCounters } from '../model/counters.ts'
import { isLive } from '../model/elements.ts'

/** One element of an array: its item and its offset within the item. */
export interface Element {
  item: Y.Item
  offset: number
}

/** An element and its index among the list's elements (strays included). */
export type PlacedElement = Element & { index: number }

interface Marker {
  p: Y.Item
  index: number
}

/** See the file comment. */
export class ListChanges {
  readonly array: Y.Array<unknown>
  /** Items this transaction deleted that were live before it, in list order once sorted. */
  readonly #removed: Y.Item[]
  /** New items live after the transaction, in list order once sorted. */
  readonly #inserted: Y.Item[]
  /** The number of live elements left of an item, after the transaction. */
  readonly #left = new Map<Y.Item, number>()
  /** Yjs's search markers of the array, when they can be trusted. */
  readonly #markers: readonly Marker[]
  #sorted = false
  /** Once sorted: each changed item's live elements on its left, and the sums of their lengths (`sums[i]`: the first i items). */
  readonly #insertedLefts: number[] = []
  readonly #removedLefts: number[] = []
  #insertedSums: number[] = [0]
  #removedSums: number[] = [0]

  /**
   * @param removed items of `array` deleted by the transaction, live before it
   * @param inserted items of `array` made by the transaction and live after it
   * @param local whether the transaction was local (Yjs's search markers are then exact)
   */
  constructor(array: Y.Array<unknown>, removed: Y.Item[], inserted: Y.Item[], local: boolean) {
    this.array = array
    this.#removed = removed.filter((item) => item.countable)
    this.#inserted = inserted.filter((item) => item.countable)
    const doc = array.doc
    // Items integrated from elsewhere in a local transaction would not have moved the markers.
    const trusted =
      local && doc !== null && this.#inserted.every((item) => item.id.client === doc.clientID)
    const markers = (array as unknown as { _searchMarker: Marker[] | null })._searchMarker
    this.#markers = (trusted && markers) || []
  }

  /** The removed elements, in order, with their indexes before the transaction. */
  removals(): PlacedElement[] {
    this.#sort()
    const out: PlacedElement[] = []
    let removedLeft = 0
    for (const item of this.#removed) {
      const left = this.#liveLeft(item)
      const index = left - this.#insertedLeftOf(left) + removedLeft
      for (let offset = 0; offset < item.length; offset++)
        out.push({ item, offset, index: index + offset })
      removedLeft += item.length
    }
    return out
  }

  /** The inserted elements, in order, with their indexes after the transaction. */
  insertions(): PlacedElement[] {
    this.#sort()
    const out: PlacedElement[] = []
    for (const item of this.#inserted) {
      const index = this.#liveLeft(item)
      for (let offset = 0; offset < item.length; offset++)
        out.push({ item, offset, index: index + offset })
    }
    return out
  }

  /** The index before the transaction of an item live both before and after it. */
  indexBefore(item: Y.Item): number {
    this.#sort()
    const left = this.#liveLeft(item)
    // Removed items with as many live elements on their left lie in the run of dead items just before `item`.
    const removedLeft = this.#removedSums[countAtMost(this.#removedLefts, left)]!
    return left - this.#insertedLeftOf(left) + removedLeft
  }

  /** The live element just before `element` after the transaction, or null at the start. */
  previous({ item, offset }: Element): Element | null {
    if (offset > 0) return { item, offset: offset - 1 }
    for (let left = item.left; left !== null; left = left.left) {
      modelCounters.visited++
      if (isLive(left)) return { item: left, offset: left.length - 1 }
    }
    return null
  }

  /** The live element just after `element` after the transaction, or null at the end. */
  next({ item, offset }: Element): Element | null {
    if (offset < item.length - 1) return { item, offset: offset + 1 }
    for (let right = item.right; right !== null; right = right.right) {
      modelCounters.visited++
      if (isLive(right)) return { item: right, offset: 0 }
    }
    return null
  }

  /** The number of new live elements left of an item with `left` live elements on its left. */
  #insertedLeftOf(left: number): number {
    return this.#insertedSums[countAtMost(this.#insertedLefts, left - 1)]!
  }

  /** Puts the changed items in list order. */
  #sort(): void {
    if (this.#sorted) return
    this.#sorted = true
    // In creation order first: a batch of new items is then placed one from the next.
    for (const item of this.#inserted) this.#liveLeft(item)
    for (const item of this.#removed) this.#liveLeft(item)
    this.#inserted.sort((a, b) => this.#liveLeft(a) - this.#liveLeft(b))
    const tied = new Map<number, Y.Item[]>()
    for (const item of this.#removed) {
      const left = this.#liveLeft(item)
      const group = tied.get(left)
      if (group) group.push(item)
      else tied.set(left, [item])
    }
    const rank = new Map<Y.Item, number>()
    for (const group of tied.values()) if (group.length > 1) this.#rankRun(group, rank)
    this.#removed.sort(
      (a, b) => this.#liveLeft(a) - this.#liveLeft(b) || (rank.get(a) ?? 0) - (rank.get(b) ?? 0),
    )
    for (const item of this.#inserted) this.#insertedLefts.push(this.#liveLeft(item))
    for (const item of this.#removed) this.#removedLefts.push(this.#liveLeft(item))
    this.#insertedSums = prefixSums(this.#inserted)
    this.#removedSums = prefixSums(this.#removed)
  }

  /**
   * Ranks dead items that have as many live elements on their left: they lie in one run of
   * dead items between two live ones, walked once.
   */
  #rankRun(group: Y.Item[], rank: Map<Y.Item, number>): void {
    const members = new Set(group)
    let start = group[0]!
    while (start.left !== null && !isLive(start.left)) {
      modelCounters.visited++
      start = start.left
    }
    let position = 0
    for (let item: Y.Item | null = start; item !== null && !isLive(item); item = item.right) {
      modelCounters.visited++
      if (members.has(item)) rank.set(item, position++)
    }
  }

  /** The number of live elements left of `item` after the transaction (see the file comment). */
  #liveLeft(item: Y.Item): number {
    const known = this.#known(item)
    if (known !== undefined) return known
    const left = this.#walk(item)
    this.#left.set(item, left)
    return left
  }

  /** The live elements left of `item` if known without a walk. */
  #known(item: Y.Item): number | undefined {
    const known = this.#left.get(item)
    // Yjs flags the items its markers point to (a flag can outlive its marker: look it up).
    if (known !== undefined || !item.marker) return known
    return this.#markers.find((marker) => marker.p === item)?.index
  }

  #walk(item: Y.Item): number {
    // `before`: live elements from `l` (exclusive) to `item` (exclusive); `from`: live elements from `item` to `r` (exclusive).
    let l = item.left
    let before = 0
    let r: Y.Item | null = item
    let from = 0
    for (;;) {
      modelCounters.visited++
      if (l === null) return before
      const atLeft = this.#known(l)
      if (atLeft !== undefined) return atLeft + before + (isLive(l) ? l.length : 0)
      if (isLive(l)) before += l.length
      l = l.left
      if (r === null) return this.array._length - from
      if (isLive(r)) from += r.length
      r = r.right
      const atRight = r === null ? undefined : this.#known(r)
      if (atRight !== undefined) return atRight - from
    }
  }
}

/** `sums[i]`: the total length of the first i items. */
function prefixSums(items: Y.Item[]): number[] {
  const sums = [0]
  for (const item of items) sums.push(sums.at(-1)! + item.length)
  return sums
}

/** How many values of the ascending `sorted` are at most `limit`. */
function countAtMost(sorted: number[], limit: number): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (sorted[middle]! <= limit) low = middle + 1
    else high = middle
  }
  return low
}
