/**
 * Epochs: a memory's document rebuilt from its current content, without history.
 *
 * Yjs keeps a tombstone per deleted list item and per overwritten entry, so a document grows
 * with its history. The relay bounds it by starting a new epoch: a fresh document holding
 * only the live content (`rebuildState`), which replaces the old one everywhere
 * (`replaceDocument`). Shared by the relay (which rebuilds) and the client (which moves to
 * the new epoch in place, so every view, observer and index of the document keeps working).
 */
import * as Y from 'yjs'
import { dictIndex } from './indexes.ts'
import {
  type DictEntry,
  type Slot,
  getRoot,
  scanDict,
  scanList,
} from './layout.ts'

const KIND_TAG = { dict: 'd', list: 'l' } as const

/** The live content of `array` (a dict's array) as fresh elements, write times kept. */
function dictElements(array: Y.Array<unknown>): unknown[] {
  return [...scanDict(array).entries.values()].map(entryElement)
}

function entryElement(entry: DictEntry): unknown {
  if (entry.kind === 'value') {
    return entry.expiresAt === undefined
      ? { k: entry.key, v: entry.value, w: entry.writtenAt }
      : { k: entry.key, v: entry.value, w: entry.writtenAt, x: entry.expiresAt }
  }
  // Same field order as layout.ts writes: k, w, x, t, v.
  const map = new Y.Map<unknown>()
  map.set('k', entry.key)
  map.set('w', entry.writtenAt)
  if (entry.expiresAt !== undefined) map.set('x', entry.expiresAt)
  map.set('t', KIND_TAG[entry.kind])
  map.set('v', nodeArray(entry))
  return map
}

function listElement(slot: Slot): unknown {
  if (slot.kind === 'value') return slot.value
  const map = new Y.Map<unknown>()
  map.set('t', KIND_TAG[slot.kind])
  map.set('v', nodeArray(slot))
  return map
}

function nodeArray(slot: Slot & { kind: 'dict' | 'list' }): Y.Array<unknown> {
  const array = new Y.Array<unknown>()
  const elements = slot.kind === 'dict' ? dictElements(slot.value) : scanList(slot.value).map(listElement)
  array.insert(0, elements)
  return array
}

/**
 * The state of a fresh document holding `doc`'s live content: every dict entry's winner
 * (with its write time `w` and expiry `x`), every list item in order, nothing deleted.
 * `clientId` names the writer of the fresh document (any id no client writes as).
 */
export function rebuildState(doc: Y.Doc, clientId?: number): Uint8Array {
  // A fixed guid: a document that lives for one rebuild needs no random one (uuidv4 was a
  // quarter of a relay's epoch decision).
  const fresh = new Y.Doc({ gc: true, guid: 'remem-rebuild' })
  if (clientId !== undefined) fresh.clientID = clientId
  fresh.transact(() => {
    getRoot(fresh).insert(0, dictElements(getRoot(doc)))
  })
  const state = Y.encodeStateAsUpdate(fresh)
  fresh.destroy()
  return state
}

type Resettable = Y.AbstractType<unknown> & {
  _start: Y.Item | null
  _map: Map<string, Y.Item>
  _length: number
  _searchMarker: unknown[] | null
}

/**
 * Replaces `doc`'s content by `state` (a whole document, as `rebuildState` returns) in place:
 * the document object, its root types, their observers and the client id stay; its history
 * goes. Nested types of the old content are detached (views of them must be taken again).
 * Emits `'remem:epoch'` on the document before applying the new state.
 */
export function replaceDocument(doc: Y.Doc, state: Uint8Array, origin: unknown): void {
  if (doc._transaction !== null) throw new Error('replaceDocument inside a transaction')
  const root = getRoot(doc)
  dictIndex(root)?.reset()
  for (const type of doc.share.values()) {
    const resettable = type as Resettable
    resettable._start = null
    resettable._map = new Map()
    resettable._length = 0
    if (resettable._searchMarker) resettable._searchMarker = []
  }
  const Store = doc.store.constructor as new () => typeof doc.store
  doc.store = new Store()
  dictIndex(root)?.reset()
  ;(doc as unknown as { emit(name: string, args: unknown[]): void }).emit('remem:epoch', [doc])
  Y.applyUpdate(doc, state, origin)
}
