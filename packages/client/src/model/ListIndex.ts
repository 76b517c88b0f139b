/**
 * The index of one list's array: which of its elements are not items (written by a buggy
 * or hostile peer; readers skip them). While there are none — always, between honest
 * peers — public index i is array index i, and `SyncedList` reads and writes positions
 * through `Y.Array`'s own position cache instead of scanning the list. Built on first use,
 * then kept up to date by `indexes.ts` for every transaction.
 */
import type * as Y from 'yjs'
import { elementKey, isLive, lastItem, rawAt } from './elements.ts'
import { decodeListItem } from './layout.ts'

/** See the file comment. Get it from `listIndex(array)` (indexes.ts), which keeps it current. */
export class ListIndex {
  readonly array: Y.Array<unknown>
  #built = false
  /** Ids of the live elements that are not items. */
  readonly #strays = new Set<string>()
  /** The id of the last element seen at the end of the array: where appends start looking. */
  #end: { client: number; clock: number } | null = null

  constructor(array: Y.Array<unknown>) {
    this.array = array
  }

  /** The number of live elements that are not items. */
  get strays(): number {
    if (!this.#built) this.#build()
    return this.#strays.size
  }

  /** The last item of the array, found from the last known end. */
  lastItem(): Y.Item | null {
    return lastItem(this.array, this.#end)
  }

  /** Records that `item` is at the end of the array. */
  noteEnd(item: Y.Item): void {
    this.#end = { client: item.id.client, clock: item.id.clock + item.length - 1 }
  }

  /** Forgets everything: the next read scans the array again. */
  reset(): void {
    this.#built = false
    this.#strays.clear()
  }

  /** Takes in the elements of `item` from offset `from` on. */
  addItem(item: Y.Item, from = 0): void {
    if (!this.#built) return
    if (item.right === null) this.noteEnd(item)
    for (let offset = from; offset < item.length; offset++) {
      if (decodeListItem(rawAt(item, offset)) === null) {
        this.#strays.add(elementKey(item.id.client, item.id.clock + offset))
      }
    }
  }

  /** Forgets the elements `from` to `to - 1` of client `client`. */
  removeRange(client: number, from: number, to: number): void {
    if (!this.#built || this.#strays.size === 0) return
    for (let clock = from; clock < to; clock++) this.#strays.delete(elementKey(client, clock))
  }

  /** Decodes the elements of `item` again (a peer changed a nested item's wrapper). */
  refresh(item: Y.Item): void {
    this.removeRange(item.id.client, item.id.clock, item.id.clock + item.length)
    if (isLive(item)) this.addItem(item)
  }

  #build(): void {
    this.reset()
    this.#built = true
    for (let item = this.array._start; item !== null; item = item.right) {
      if (isLive(item)) this.addItem(item)
      else if (item.right === null) this.noteEnd(item)
    }
  }
}
