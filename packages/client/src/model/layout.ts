/**
 * How a memory is laid out inside its Yjs document. Shared by the client and the relay.
 *
 * Every dict (the memory's root included) is a `Y.Array` used as a key-value log, as in
 * y-utility's YKeyValue: writing a key deletes its entries and appends a new one at the end.
 * Because each new entry's left neighbour is the previous entry, deleted entries merge into
 * one run in the encoded document, so a key overwritten 100,000 times costs bytes, not
 * megabytes (a `Y.Map` keeps an item per overwrite).
 *
 * - dict entry, primitive value: a plain object `{ k: key, v: value }`
 *   (top-level entries may carry `x`: expiry in ms since the epoch, from `set(…, { ttl })`)
 * - dict entry, nested value:    a write-once `Y.Map` `{ k: key, t: 'd' | 'l', v: Y.Array }`
 * - list item, primitive value:  the value itself
 * - list item, nested value:     a write-once `Y.Map` `{ t: 'd' | 'l', v: Y.Array }`
 *
 * Every dict entry records when it was written (`w`, ms since the epoch, kept ahead of the
 * entry it replaces, like a hybrid logical clock). Concurrent writes of one key leave
 * several entries; the latest `w` wins everywhere (ties: the last in array order), and
 * whoever sees the others deletes them. So a client that writes before its first sync does
 * not lose to older data that happens to sit later in the array. Entries that do not fit this layout
 * (written by a buggy or hostile peer) are ignored by readers.
 */
import * as Y from 'yjs'
import { modelCounters } from './counters.ts'

export type JsonPrimitive = null | boolean | number | string
export type Json = JsonPrimitive | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }
export type NodeKind = 'dict' | 'list'

/** Name of the root `Y.Array` of every memory document. */
export const ROOT_NAME = 'root'

const KIND_TAG: Record<NodeKind, string> = { dict: 'd', list: 'l' }

/** The root dict of a memory document. */
export function getRoot(doc: Y.Doc): Y.Array<unknown> {
  return doc.getArray<unknown>(ROOT_NAME)
}

/** A decoded value slot: a primitive, or a nested node and its kind. */
export type Slot =
  | { kind: 'value'; value: JsonPrimitive }
  | { kind: NodeKind; value: Y.Array<unknown> }

/** A decoded dict entry: its key, its slot and its index in the dict's array. */
export type DictEntry = Slot & { key: string; index: number; expiresAt?: number; writtenAt: number }

/** Metadata of a dict entry: expiry (top-level keys only) and write time, ms since the epoch. */
export interface EntryMeta {
  expiresAt?: number | undefined
  writtenAt?: number | undefined
}

export function isPrimitive(value: unknown): value is JsonPrimitive {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

function decodeWrapper(map: Y.Map<unknown>): Slot | null {
  const tag = map.get('t')
  const inner = map.get('v')
  if (!(inner instanceof Y.Array)) return null
  if (tag === 'd') return { kind: 'dict', value: inner }
  if (tag === 'l') return { kind: 'list', value: inner }
  return null
}

/** Decodes one raw element of a dict's array, or returns null when it is not an entry. */
export function decodeDictEntry(
  raw: unknown,
): (Slot & { key: string; expiresAt?: number; writtenAt: number }) | null {
  modelCounters.decoded++
  let key: unknown
  let slot: Slot | null = null
  let x: unknown
  let w: unknown
  if (raw instanceof Y.Map) {
    key = raw.get('k')
    slot = decodeWrapper(raw)
    x = raw.get('x')
    w = raw.get('w')
  } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !(raw instanceof Y.AbstractType)) {
    // The common case, a primitive entry: one object, no intermediate slot.
    const entry = raw as { k?: unknown; v?: unknown; x?: unknown; w?: unknown }
    key = entry.k
    const value = entry.v
    if (typeof key !== 'string' || !isPrimitive(value)) return null
    return entryObject('value', value, key, entry.x, entry.w)
  }
  if (typeof key !== 'string' || !slot) return null
  return entryObject(slot.kind, slot.value, key, x, w)
}

/** A decoded entry, in one of two fixed shapes (with or without `expiresAt`). */
function entryObject(
  kind: Slot['kind'],
  value: Slot['value'],
  key: string,
  x: unknown,
  w: unknown,
): Slot & { key: string; expiresAt?: number; writtenAt: number } {
  const writtenAt = typeof w === 'number' && Number.isFinite(w) ? w : 0
  return (
    typeof x === 'number' && Number.isFinite(x)
      ? { kind, value, key, expiresAt: x, writtenAt }
      : { kind, value, key, writtenAt }
  ) as Slot & { key: string; expiresAt?: number; writtenAt: number }
}

/** Decodes one raw element of a list's array, or returns null when it is not an item. */
export function decodeListItem(raw: unknown): Slot | null {
  modelCounters.decoded++
  if (raw instanceof Y.Map) return decodeWrapper(raw)
  if (isPrimitive(raw)) return { kind: 'value', value: raw }
  return null
}

/** Builds the (not yet integrated) Yjs content of a JSON value. The value must be valid JSON. */
export function buildNode(value: Json): { kind: NodeKind; array: Y.Array<unknown> } | null {
  if (Array.isArray(value)) {
    const array = new Y.Array<unknown>()
    array.insert(0, value.map(encodeListItem))
    return { kind: 'list', array }
  }
  if (typeof value === 'object' && value !== null) {
    const array = new Y.Array<unknown>()
    array.insert(
      0,
      Object.entries(value).map(([k, v]) => encodeDictEntry(k, v)),
    )
    return { kind: 'dict', array }
  }
  return null
}

function wrap(
  node: { kind: NodeKind; array: Y.Array<unknown> },
  key?: string,
  meta: EntryMeta = {},
): Y.Map<unknown> {
  const map = new Y.Map<unknown>()
  if (key !== undefined) {
    map.set('k', key)
    map.set('w', meta.writtenAt ?? Date.now())
  }
  if (meta.expiresAt !== undefined) map.set('x', meta.expiresAt)
  map.set('t', KIND_TAG[node.kind])
  map.set('v', node.array)
  return map
}

/** The raw element of a dict entry holding a primitive (`encodeDictEntry`). */
export interface PrimitiveEntry {
  k: string
  v: JsonPrimitive
  w: number
  x?: number
}

/** The raw element that stores `key: value` in a dict's array. */
export function encodeDictEntry(key: string, value: Json, meta: EntryMeta = {}): unknown {
  const node = buildNode(value)
  if (node) return wrap(node, key, meta)
  const w = meta.writtenAt ?? Date.now()
  return meta.expiresAt === undefined ? { k: key, v: value, w } : { k: key, v: value, w, x: meta.expiresAt }
}

/** The raw element that stores `value` in a list's array. */
export function encodeListItem(value: Json): unknown {
  const node = buildNode(value)
  return node ? wrap(node) : value
}

/**
 * Reads a dict's array: the winning entry of each key (the last in array order) and the
 * indices of shadowed duplicates, which writers delete.
 */
export function scanDict(array: Y.Array<unknown>): {
  entries: Map<string, DictEntry>
  shadowed: number[]
} {
  const entries = new Map<string, DictEntry>()
  const shadowed: number[] = []
  let index = 0
  for (const raw of array) {
    modelCounters.visited++
    const entry = decodeDictEntry(raw)
    if (entry) {
      const previous = entries.get(entry.key)
      if (previous && previous.writtenAt > entry.writtenAt) {
        shadowed.push(index)
      } else {
        if (previous) {
          shadowed.push(previous.index)
          entries.delete(entry.key)
        }
        entries.set(entry.key, { ...entry, index } as DictEntry)
      }
    }
    index++
  }
  return { entries, shadowed }
}

/** Reads the valid items of a list's array with their indices in the array. */
export function scanList(array: Y.Array<unknown>): Array<Slot & { index: number }> {
  const items: Array<Slot & { index: number }> = []
  let index = 0
  for (const raw of array) {
    modelCounters.visited++
    const slot = decodeListItem(raw)
    if (slot) items.push({ ...slot, index } as Slot & { index: number })
    index++
  }
  return items
}

/** Deletes the given array indices (any order) within the current transaction. */
export function deleteIndices(array: Y.Array<unknown>, indices: number[]): void {
  for (const index of [...indices].sort((a, b) => b - a)) array.delete(index, 1)
}

/** The plain JSON value of a slot. */
export function slotToJSON(slot: Slot): Json {
  switch (slot.kind) {
    case 'value':
      return slot.value
    case 'dict':
      return dictToJSON(slot.value)
    case 'list':
      return listToJSON(slot.value)
  }
}

export function dictToJSON(array: Y.Array<unknown>): JsonObject {
  const out: JsonObject = {}
  for (const [key, entry] of scanDict(array).entries) setOwn(out, key, slotToJSON(entry))
  return out
}

/**
 * `out[key] = value`, also for the key `__proto__`, which an assignment would not create
 * (it would set the object's prototype instead).
 */
export function setOwn(out: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true })
  } else {
    out[key] = value
  }
}

export function listToJSON(array: Y.Array<unknown>): Json[] {
  return scanList(array).map(slotToJSON)
}

/** The whole memory as plain JSON. */
export function docToJSON(doc: Y.Doc): JsonObject {
  return dictToJSON(getRoot(doc))
}
