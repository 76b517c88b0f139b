/**
 * Element-level access to a `Y.Array`, for the indexes (`DictIndex`, `ListIndex`).
 *
 * An element is one value of the array. Yjs stores runs of elements in items (`Y.Item`); an
 * element keeps its id (`client`, `clock`) for ever, while items are split and merged around
 * it. So the indexes name elements by id, and these helpers find, delete and append them
 * without counting positions from the start of the array.
 */
import * as Y from 'yjs'
import { modelCounters } from './counters.ts'

/** The id of an element as one string, the key of the indexes' maps. */
export function elementKey(client: number, clock: number): string {
  return `${client}:${clock}`
}

/** The raw value of element `offset` of `item` (a plain value, or a nested type). */
export function rawAt(item: Y.Item, offset: number): unknown {
  const content = item.content
  if (content instanceof Y.ContentAny) return content.arr[offset]
  if (content instanceof Y.ContentType) return content.type
  return content.getContent()[offset]
}

/** Whether `item` holds elements of its parent's list (neither deleted nor formatting). */
export function isLive(item: Y.Item): boolean {
  return !item.deleted && item.countable
}

/**
 * The item holding element (`client`, `clock`) of `array`, and the element's offset in it;
 * null when the element is not in `array` (or was garbage-collected with its parent).
 */
export function findElement(
  array: Y.Array<unknown>,
  client: number,
  clock: number,
): { item: Y.Item; offset: number } | null {
  const item = itemOf(array, client, clock)
  return item === null ? null : { item, offset: clock - item.id.clock }
}

/** The item holding element (`client`, `clock`) of `array`, as `findElement` finds it (no pair allocated). */
export function itemOf(array: Y.Array<unknown>, client: number, clock: number): Y.Item | null {
  const structs = array.doc?.store.clients.get(client)
  if (!structs || structs.length === 0) return null
  const last = structs[structs.length - 1]!
  if (clock >= last.id.clock + last.length) return null
  const item = structs[Y.findIndexSS(structs, clock)]
  return item instanceof Y.Item && item.parent === array ? item : null
}

/**
 * Whether element `a` comes before element `b` in `array` (both live elements of it).
 * Walks from `a` to the right, so it costs the distance between them: used only to break
 * ties between entries written at the same millisecond.
 */
export function comesBefore(
  array: Y.Array<unknown>,
  a: { client: number; clock: number },
  b: { client: number; clock: number },
): boolean {
  const found = findElement(array, a.client, a.clock)
  if (!found) return false
  for (let item: Y.Item | null = found.item; item !== null; item = item.right) {
    modelCounters.visited++
    const { client, clock } = item.id
    if (client === b.client && b.clock >= clock && b.clock < clock + item.length) {
      return item !== found.item || b.clock > a.clock
    }
  }
  return false
}

/**
 * Deletes element (`client`, `clock`) within `transaction`, splitting its item if needed.
 * Does nothing if it is already deleted. Clears the array's position cache (Yjs's search
 * markers), whose positions this deletion would make wrong.
 */
export function deleteElement(
  transaction: Y.Transaction,
  array: Y.Array<unknown>,
  client: number,
  clock: number,
): void {
  const found = itemOf(array, client, clock)
  if (found === null || found.deleted) return
  const id = Y.createID(client, clock)
  // Split off the element only where it shares its item (each split costs Yjs a search).
  let item: Y.Item | Y.GC = found.id.clock === clock ? found : Y.getItemCleanStart(transaction, id)
  if (!(item instanceof Y.Item)) return
  if (item.length > 1) item = Y.getItemCleanEnd(transaction, transaction.doc.store, id)
  item.delete(transaction)
  if (array._searchMarker && array._searchMarker.length > 0) array._searchMarker.length = 0
}

/**
 * The last item of `array` (deleted or not), walking right from the item holding element
 * `hint` (an id, since items are merged and split; null: from the start).
 */
export function lastItem(array: Y.Array<unknown>, hint: { client: number; clock: number } | null): Y.Item | null {
  let item = (hint && itemOf(array, hint.client, hint.clock)) ?? array._start
  if (item === null) return null
  while (item.right !== null) {
    modelCounters.visited++
    item = item.right
  }
  return item
}

/**
 * Inserts `raws` (plain JSON values and unintegrated `Y.Map`s) right after item `last` of
 * `array` (null: at the start), as `array.insert` would (runs of plain values share one
 * item), without walking from the start to find the place: after the last item it is
 * `array.push(raws)`. Returns the last new item.
 */
export function appendAfter(
  transaction: Y.Transaction,
  array: Y.Array<unknown>,
  last: Y.Item | null,
  raws: unknown[],
): Y.Item | null {
  const right = last === null ? array._start : last.right
  let left = last
  let run: unknown[] = []
  for (const raw of raws) {
    if (!(raw instanceof Y.AbstractType)) {
      run.push(raw)
      continue
    }
    if (run.length > 0) left = integrateAfter(transaction, array, left, right, new Y.ContentAny(run))
    run = []
    left = integrateAfter(transaction, array, left, right, new Y.ContentType(raw))
  }
  if (run.length > 0) left = integrateAfter(transaction, array, left, right, new Y.ContentAny(run))
  return left === last ? null : left
}

/** Creates and integrates one item of `content` between `left` and `right` in `array`. */
function integrateAfter(
  transaction: Y.Transaction,
  array: Y.Array<unknown>,
  left: Y.Item | null,
  right: Y.Item | null,
  content: Y.ContentAny | Y.ContentType,
): Y.Item {
  const doc = transaction.doc
  const client = doc.clientID
  const item = new Y.Item(
    Y.createID(client, Y.getState(doc.store, client)),
    left,
    left && left.lastId,
    right,
    right && right.id,
    array,
    null,
    content,
  )
  item.integrate(transaction, 0)
  return item
}
