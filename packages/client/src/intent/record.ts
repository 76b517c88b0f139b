/**
 * Derives the intent of one local transaction (see Intent.ts), read from the transaction
 * itself in 'beforeObserverCalls', while deleted content is still there (Yjs collects it
 * after the observers). Costs in proportion to the transaction: for dicts from the dict's
 * index (a raw edit the index has not seen yet, such as an undo, scans the dict), for lists
 * from the changed items and their neighbours (ListChanges.ts), plus the JSON of the values
 * it names (a list step of a path names its item by value).
 *
 * - a dict entry written (and still the winner of its key): `set`, with its write time;
 * - a dict entry deleted, its key left without an entry: `delete`;
 * - a list item inserted: `insert`, with its neighbours after the change;
 * - a list item removed: `remove`, with its value and index before the change.
 * Changes inside a nested value written in the same transaction are part of that value.
 */
import * as Y from 'yjs'
import { rawAt } from '../model/elements.ts'
import { dictIndex, forEachDeletedItem, forEachInsertedItem } from '../model/indexes.ts'
import { type Json, type JsonObject, getRoot, isPrimitive, setOwn } from '../model/layout.ts'
import { declaredSet } from './declared.ts'
import type { Intent, ItemRef, PathStep } from './Intent.ts'
import { type Element, ListChanges } from './ListChanges.ts'

type Alive = (item: Y.Item) => boolean

function rawGet(map: Y.Map<unknown>, key: string): unknown {
  const item = (map as unknown as { _map: Map<string, Y.Item> })._map.get(key)
  return item ? item.content.getContent().at(-1) : undefined
}

function startOf(array: Y.Array<unknown>): Y.Item | null {
  return (array as unknown as { _start: Y.Item | null })._start
}

/** The elements of `array` that `alive` keeps, in order. */
function elements(array: Y.Array<unknown>, alive: Alive): Array<Element & { raw: unknown }> {
  const out: Array<Element & { raw: unknown }> = []
  for (let item = startOf(array); item !== null; item = item.right) {
    if (!item.countable || !alive(item)) continue
    const content = item.content.getContent()
    for (let offset = 0; offset < content.length; offset++) out.push({ item, offset, raw: content[offset] })
  }
  return out
}

interface RawEntry {
  key: string
  w: number
  x: number | undefined
  value: Json
}

/** A raw dict entry as JSON, reading nested content that `alive` keeps; null when it is not an entry. */
function entryOf(raw: unknown, alive: Alive): RawEntry | null {
  let key: unknown
  let w: unknown
  let x: unknown
  let value: Json | undefined
  if (raw instanceof Y.Map) {
    key = rawGet(raw, 'k')
    w = rawGet(raw, 'w')
    x = rawGet(raw, 'x')
    value = wrapperJSON(raw, alive) ?? undefined
  } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Y.AbstractType)) {
    const entry = raw as { k?: unknown; v?: unknown; w?: unknown; x?: unknown }
    key = entry.k
    w = entry.w
    x = entry.x
    if (isPrimitive(entry.v)) value = entry.v
  }
  if (typeof key !== 'string' || value === undefined) return null
  return { key, w: typeof w === 'number' ? w : 0, x: typeof x === 'number' ? x : undefined, value }
}

/** Whether `records` names element (`client`, `clock`). */
function holds(records: ReadonlyArray<{ client: number; clock: number }>, client: number, clock: number): boolean {
  for (const record of records) if (record.client === client && record.clock === clock) return true
  return false
}

/** Whether `raw` may be an entry of `key` (a cheap test before `entryOf`). */
function hasKey(raw: unknown, key: string): boolean {
  if (raw instanceof Y.Map) return rawGet(raw, 'k') === key
  return typeof raw === 'object' && raw !== null && (raw as { k?: unknown }).k === key
}

function itemJSON(raw: unknown, alive: Alive): Json | undefined {
  if (raw instanceof Y.Map) return wrapperJSON(raw, alive) ?? undefined
  return isPrimitive(raw) ? raw : undefined
}

function wrapperJSON(map: Y.Map<unknown>, alive: Alive): Json | null {
  const inner = rawGet(map, 'v')
  if (!(inner instanceof Y.Array)) return null
  const tag = rawGet(map, 't')
  if (tag === 'd') return dictJSON(inner, alive)
  if (tag === 'l') return listJSON(inner, alive)
  return null
}

function dictJSON(array: Y.Array<unknown>, alive: Alive): JsonObject {
  const winners = new Map<string, RawEntry>()
  for (const { raw } of elements(array, alive)) {
    const entry = entryOf(raw, alive)
    if (!entry) continue
    const previous = winners.get(entry.key)
    if (previous && previous.w > entry.w) continue
    winners.delete(entry.key)
    winners.set(entry.key, entry)
  }
  const out: JsonObject = {}
  for (const [key, entry] of winners) setOwn(out, key, entry.value)
  return out
}

function listJSON(array: Y.Array<unknown>, alive: Alive): Json[] {
  const out: Json[] = []
  for (const { raw } of elements(array, alive)) {
    const value = itemJSON(raw, alive)
    if (value !== undefined) out.push(value)
  }
  return out
}

/** Whether `item` was made in the transaction whose state before was `before`. */
function isNewIn(item: Y.Item, before: Map<number, number>): boolean {
  return item.id.clock >= (before.get(item.id.client) ?? 0)
}

/**
 * One step up from a nested node's array: the wrapper map holding it, that map's element in
 * its parent array, and the parent array; null when either is deleted or new (per `before`).
 */
function parentOf(
  array: Y.Array<unknown>,
  before: Map<number, number>,
): { map: Y.Map<unknown>; element: Y.Item; parent: Y.Array<unknown> } | null {
  const holder = array._item
  if (!holder || holder.deleted || isNewIn(holder, before) || !(holder.parent instanceof Y.Map)) return null
  const map = holder.parent as Y.Map<unknown>
  const element = map._item
  if (!element || element.deleted || isNewIn(element, before) || !(element.parent instanceof Y.Array)) return null
  return { map, element, parent: element.parent as Y.Array<unknown> }
}

/** Whether `array` holds a dict ('dict'), a list ('list'), or is no memory node (null). */
function kindOf(array: Y.Array<unknown>, root: Y.Array<unknown>): 'dict' | 'list' | null {
  if (array === root) return 'dict'
  const holder = array._item
  if (!holder || !(holder.parent instanceof Y.Map)) return null
  const tag = rawGet(holder.parent as Y.Map<unknown>, 't')
  return tag === 'd' ? 'dict' : tag === 'l' ? 'list' : null
}

/** Reads one local transaction (or takes its writer's declaration: declared.ts); see the file comment. */
export function recordIntent(transaction: Y.Transaction): Intent[] {
  const declared = declaredSet(transaction)
  if (declared !== null) {
    const path = dictPathOf(declared.array, transaction)
    const { k, v, w, x } = declared.raw
    if (path !== null) return [setIntent(path, k, v, w, x)]
  }
  return readIntent(transaction)
}

/** A `set` intent; `x` (the expiry) only when there is one. */
function setIntent(path: PathStep[], key: string, value: Json, w: number, x: number | undefined): Intent {
  return x === undefined ? { op: 'set', path, key, value, w } : { op: 'set', path, key, value, w, x }
}

/**
 * The path of dict `array` from the root when every step is a dict key, or null (a step
 * through a list, or a node new or deleted in `transaction`: the reading handles those).
 */
function dictPathOf(array: Y.Array<unknown>, transaction: Y.Transaction): string[] | null {
  const root = getRoot(transaction.doc)
  if (kindOf(array, root) !== 'dict') return null
  const steps: string[] = []
  for (let current = array; current !== root; ) {
    const up = parentOf(current, transaction.beforeState)
    if (up === null || kindOf(up.parent, root) !== 'dict') return null
    const key = rawGet(up.map, 'k')
    if (typeof key !== 'string') return null
    steps.push(key)
    current = up.parent
  }
  return steps.reverse()
}

/** Reads one local transaction, declared or not. */
export function readIntent(transaction: Y.Transaction): Intent[] {
  return new TransactionReading(transaction).intents()
}

/** Whether `item` is in the document after the transaction. */
const aliveAfter: Alive = (item) => !item.deleted

/**
 * One reading of a transaction: what it deleted and added, per array. A class rather than
 * closures, so that reading costs no function allocations per transaction.
 */
class TransactionReading {
  private readonly doc: Y.Doc
  private readonly root: Y.Array<unknown>
  private readonly before: Map<number, number>
  private readonly deletedNow = new Set<Y.Item>()
  private readonly touched = new Set<Y.Array<unknown>>()
  /** The items of each array deleted now, in delete-set order. */
  private readonly removed = new Map<Y.Array<unknown>, Y.Item[]>()
  /** The new, live elements' items of each array, in struct order. */
  private readonly added = new Map<Y.Array<unknown>, Y.Item[]>()
  private changes: Map<Y.Array<unknown>, ListChanges> | null = null
  /** The last answer of `liveRecords` (a set asks it twice for its key: for the entry removed and the one added). */
  private lastLive: { array: Y.Array<unknown>; key: string; records: ReadonlyArray<{ client: number; clock: number }> } | null = null
  private readonly out: Intent[] = []
  /** Whether `item` was in the document before the transaction. */
  private readonly aliveBefore: Alive

  constructor(private readonly transaction: Y.Transaction) {
    this.doc = transaction.doc
    this.root = getRoot(this.doc)
    this.before = transaction.beforeState
    this.aliveBefore = (item) => !this.isNew(item) && (!item.deleted || this.deletedNow.has(item))
  }

  intents(): Intent[] {
    forEachDeletedItem(this.transaction, (item) => {
      if (!this.isNew(item)) this.deletedNow.add(item)
    })
    for (const item of this.deletedNow) {
      const array = this.consider(item)
      if (array !== null) pushTo(this.removed, array, item)
    }
    forEachInsertedItem(this.transaction, (item) => {
      const array = item.countable ? this.consider(item) : null
      if (array !== null) pushTo(this.added, array, item)
    })
    for (const array of this.touched) {
      const kind = kindOf(array, this.root)
      const path = kind === null ? null : this.pathOf(array)
      if (path === null) continue
      if (kind === 'dict') this.recordDict(array, path)
      else this.recordList(array, path)
    }
    return this.out
  }

  private isNew(item: Y.Item): boolean {
    return isNewIn(item, this.before)
  }

  /** The array `item` is an element of (noting it as touched), or null. */
  private consider(item: Y.Item): Y.Array<unknown> | null {
    if (item.parentSub !== null || !(item.parent instanceof Y.Array)) return null
    const array = item.parent as Y.Array<unknown>
    this.touched.add(array)
    return array
  }

  /** What the transaction did to list `array`, with positions. */
  private changesOf(array: Y.Array<unknown>): ListChanges {
    this.changes ??= new Map()
    let listChanges = this.changes.get(array)
    if (!listChanges) {
      listChanges = new ListChanges(array, this.removed.get(array) ?? [], this.added.get(array) ?? [], this.transaction.local)
      this.changes.set(array, listChanges)
    }
    return listChanges
  }

  /** The path of `array` from the root, or null when it is new, deleted or no memory node. */
  private pathOf(array: Y.Array<unknown>): PathStep[] | null {
    const steps: PathStep[] = []
    let current = array
    while (current !== this.root) {
      const up = parentOf(current, this.before)
      if (up === null) return null
      const { map, element, parent } = up
      const kind = kindOf(parent, this.root)
      if (kind === null) return null
      if (kind === 'dict') {
        const key = rawGet(map, 'k')
        if (typeof key !== 'string') return null
        steps.unshift(key)
      } else {
        const value = wrapperJSON(map, this.aliveBefore)
        if (value === null) return null
        steps.unshift({ value, index: this.changesOf(parent).indexBefore(element) })
      }
      current = parent
    }
    return steps
  }

  /** Whether the element with this id is in the document and not deleted. */
  private aliveId(client: number, clock: number): boolean {
    const structs = this.doc.store.clients.get(client)
    if (!structs || structs.length === 0) return false
    const struct = structs[Y.findIndexSS(structs, clock)]
    return struct instanceof Y.Item && !struct.deleted
  }

  private allAlive(records: ReadonlyArray<{ client: number; clock: number }>): boolean {
    for (const { client, clock } of records) if (!this.aliveId(client, clock)) return false
    return true
  }

  /** Whether an element added now holds an entry of `key` that `indexed` lacks. */
  private addedUnindexed(array: Y.Array<unknown>, key: string, indexed: ReadonlyArray<{ client: number; clock: number }> | undefined): boolean {
    for (const item of this.added.get(array) ?? []) {
      const content = item.content.getContent()
      for (let offset = 0; offset < content.length; offset++) {
        if (!hasKey(content[offset], key) || entryOf(content[offset], aliveAfter)?.key !== key) continue
        const clock = item.id.clock + offset
        if (!indexed || !holds(indexed, item.id.client, clock)) return true
      }
    }
    return false
  }

  /** The live entries of `key` (client, clock of each element), winner last: from the index when it is current, else by a scan. */
  private liveRecords(array: Y.Array<unknown>, key: string): ReadonlyArray<{ client: number; clock: number }> {
    const last = this.lastLive
    if (last !== null && last.array === array && last.key === key) return last.records
    const records = this.findLiveRecords(array, key)
    this.lastLive = { array, key, records }
    return records
  }

  private findLiveRecords(array: Y.Array<unknown>, key: string): ReadonlyArray<{ client: number; clock: number }> {
    const indexed = dictIndex(array)?.records(key)
    if (indexed && !this.addedUnindexed(array, key, indexed) && this.allAlive(indexed)) return indexed
    let winner: { client: number; clock: number; w: number } | null = null
    const all: Array<{ client: number; clock: number }> = []
    for (const { item, offset, raw } of elements(array, aliveAfter)) {
      const entry = entryOf(raw, aliveAfter)
      if (entry?.key !== key) continue
      const record = { client: item.id.client, clock: item.id.clock + offset, w: entry.w }
      all.push(record)
      if (!winner || record.w >= winner.w) winner = record
    }
    return winner ? [...all.filter((r) => r !== winner), winner] : []
  }

  private recordDict(array: Y.Array<unknown>, path: PathStep[]): void {
    let deletedKeys: Set<string> | null = null
    for (const item of this.removed.get(array) ?? []) {
      if (!item.countable) continue
      for (const raw of item.content.getContent()) {
        const entry = entryOf(raw, this.aliveBefore)
        if (!entry || deletedKeys?.has(entry.key)) continue
        if (this.liveRecords(array, entry.key).length > 0) continue // overwritten, or a loser removed
        ;(deletedKeys ??= new Set()).add(entry.key)
        this.out.push({ op: 'delete', path, key: entry.key, w: entry.w })
      }
    }
    for (const item of this.added.get(array) ?? []) {
      const content = item.content.getContent()
      for (let offset = 0; offset < content.length; offset++) {
        const entry = entryOf(content[offset], aliveAfter)
        if (!entry) continue
        const winner = this.liveRecords(array, entry.key).at(-1)
        if (winner && (winner.client !== item.id.client || winner.clock !== item.id.clock + offset)) continue
        this.out.push(setIntent(path, entry.key, entry.value, entry.w, entry.x))
      }
    }
  }

  private recordList(array: Y.Array<unknown>, path: PathStep[]): void {
    const list = this.changesOf(array)
    for (const { item, offset, index } of list.removals()) {
      const value = itemJSON(rawAt(item, offset), this.aliveBefore)
      if (value !== undefined) this.out.push({ op: 'remove', path, item: { value, index } })
    }
    for (const element of list.insertions()) {
      const value = itemJSON(rawAt(element.item, element.offset), aliveAfter)
      if (value === undefined) continue
      const { index } = element
      this.out.push({
        op: 'insert',
        path,
        index,
        value,
        left: itemRef(list.previous(element), index - 1),
        right: itemRef(list.next(element), index + 1),
      })
    }
  }
}

/** A list item as an intent names it (by value and index), or null when there is none. */
function itemRef(element: Element | null, index: number): ItemRef | null {
  const value = element ? itemJSON(rawAt(element.item, element.offset), aliveAfter) : undefined
  return value === undefined ? null : { value, index }
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const values = map.get(key)
  if (values) values.push(value)
  else map.set(key, [value])
}
