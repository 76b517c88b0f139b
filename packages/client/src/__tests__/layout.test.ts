import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  type Json,
  decodeDictEntry,
  decodeListItem,
  deleteIndices,
  dictToJSON,
  docToJSON,
  encodeDictEntry,
  encodeListItem,
  getRoot,
  listToJSON,
  scanDict,
  scanList,
} from '../model/layout.ts'
import { assignDict, assignList, dictDelete, dictSet, jsonEquals } from '../model/write.ts'

function docWith(value: Record<string, Json>) {
  const doc = new Y.Doc()
  const root = getRoot(doc)
  doc.transact(() => assignDict(root, value))
  return { doc, root }
}

describe('layout', () => {
  it('round-trips JSON through the document', () => {
    const value = { a: 1, b: { c: [1, 'x', null, { d: true }, [[]]] }, e: [], f: {} }
    const { doc } = docWith(value)
    expect(docToJSON(doc)).toEqual(value)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    expect(docToJSON(copy)).toEqual(value)
  })

  it('encodes primitives inline and nested values as write-once wrappers', () => {
    expect(encodeDictEntry('k', 1, { writtenAt: 7 })).toEqual({ k: 'k', v: 1, w: 7 })
    expect(encodeDictEntry('k', 1, { writtenAt: 7, expiresAt: 9 })).toEqual({ k: 'k', v: 1, w: 7, x: 9 })
    expect(encodeListItem('x')).toBe('x')
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    array.push([encodeDictEntry('k', { x: 1 }), encodeListItem([1])])
    const [entry, item] = array.toArray() as [Y.Map<unknown>, Y.Map<unknown>]
    expect(entry.get('k')).toBe('k')
    expect(entry.get('t')).toBe('d')
    expect(item.get('t')).toBe('l')
    expect(item.has('k')).toBe(false)
    expect(decodeDictEntry(entry)).toMatchObject({ key: 'k', kind: 'dict' })
    expect(decodeListItem(item)).toMatchObject({ kind: 'list' })
  })

  it('decodes only what fits the layout', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    const badTag = new Y.Map<unknown>()
    const noArray = new Y.Map<unknown>()
    array.push([badTag, noArray, new Y.Text('t'), new Y.Array()])
    badTag.set('k', 'x')
    badTag.set('t', 'q')
    badTag.set('v', new Y.Array())
    noArray.set('k', 'x')
    noArray.set('t', 'd')
    noArray.set('v', 'not an array')
    for (const raw of array.toArray()) {
      expect(decodeDictEntry(raw)).toBeNull()
      expect(decodeListItem(raw)).toBeNull()
    }
    for (const raw of [
      { k: 1, v: 1 },
      { k: 'a', v: {} },
      { k: 'a', v: NaN },
      { k: 'a' },
      ['k', 'v'],
      'x',
      null,
    ]) {
      expect(decodeDictEntry(raw), JSON.stringify(raw)).toBeNull()
    }
    expect(decodeDictEntry({ k: 'a', v: null })).toEqual({ kind: 'value', key: 'a', value: null, writtenAt: 0 })
    expect(decodeDictEntry({ k: 'a', v: 1, w: 5, x: 6 })).toEqual({
      kind: 'value',
      key: 'a',
      value: 1,
      writtenAt: 5,
      expiresAt: 6,
    })
    for (const raw of [{ a: 1 }, [1], Infinity, undefined]) {
      expect(decodeListItem(raw)).toBeNull()
    }
  })

  it('lets the last entry of a key win and reports the shadowed ones', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    array.push([
      { k: 'a', v: 1 },
      { junk: true },
      { k: 'b', v: 2 },
      { k: 'a', v: 3 },
      { k: 'a', v: 4 },
    ])
    const { entries, shadowed } = scanDict(array)
    expect(entries.get('a')).toMatchObject({ value: 4, index: 4 })
    expect([...entries.keys()]).toEqual(['b', 'a'])
    expect(shadowed.sort()).toEqual([0, 3])
    expect(dictToJSON(array)).toEqual({ b: 2, a: 4 })
    deleteIndices(array, shadowed)
    expect(array.toArray()).toEqual([{ junk: true }, { k: 'b', v: 2 }, { k: 'a', v: 4 }])
  })

  it('lets the latest write time win over array order, so early offline writes are not lost', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    array.push([
      { k: 'a', v: 'new', w: 20 },
      { k: 'a', v: 'old', w: 10 },
      { k: 'b', v: 'tie-1', w: 5 },
      { k: 'b', v: 'tie-2', w: 5 },
    ])
    const { entries, shadowed } = scanDict(array)
    expect(entries.get('a')).toMatchObject({ value: 'new', index: 0 })
    expect(entries.get('b')).toMatchObject({ value: 'tie-2', index: 3 })
    expect(shadowed.sort()).toEqual([1, 2])
  })

  it('writes a replacement with a time ahead of the entry it replaces', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    const future = Date.now() + 60_000
    array.push([{ k: 'a', v: 1, w: future }])
    dictSet(array, 'a', 2)
    expect(scanDict(array).entries.get('a')).toMatchObject({ value: 2, writtenAt: future + 1 })
  })

  it('lists items with their array indices', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('a')
    array.push(['x', { junk: 1 }, 'y'])
    expect(scanList(array).map((item) => item.index)).toEqual([0, 2])
    expect(listToJSON(array)).toEqual(['x', 'y'])
  })

  it('keeps a "__proto__" key as data when reading', () => {
    const { doc } = docWith(JSON.parse('{"__proto__": {"x": 1}}') as Record<string, Json>)
    const json = docToJSON(doc)
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype)
    expect(Object.keys(json)).toEqual(['__proto__'])
    expect(json['__proto__']).toEqual({ x: 1 })
  })
})

describe('write', () => {
  it('sets, diffs and deletes keys', () => {
    const { root } = docWith({ a: { x: 1, y: 2 }, l: [1, 2, 3] })
    const inner = scanDict(root).entries.get('a')!.value
    dictSet(root, 'a', { x: 1, y: 3 })
    expect(scanDict(root).entries.get('a')!.value).toBe(inner)
    dictSet(root, 'l', [1, 9, 3])
    expect(dictToJSON(root)).toEqual({ a: { x: 1, y: 3 }, l: [1, 9, 3] })
    expect(dictDelete(root, 'a')).toBe(true)
    expect(dictDelete(root, 'a')).toBe(false)
    expect(dictToJSON(root)).toEqual({ l: [1, 9, 3] })
  })

  it('removes keys named like Object.prototype members when assigning', () => {
    const { root } = docWith({ toString: 1, constructor: 2, keep: 3 })
    assignDict(root, { keep: 3 })
    expect(dictToJSON(root)).toEqual({ keep: 3 })
  })

  it('replaces only the middle of a list', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<unknown>('l')
    assignList(array, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
    const [first, , , last] = array.toArray()
    assignList(array, [{ n: 1 }, { n: 5 }, { n: 6 }, { n: 4 }])
    expect(listToJSON(array)).toEqual([{ n: 1 }, { n: 5 }, { n: 6 }, { n: 4 }])
    expect(array.get(0)).toBe(first)
    expect(array.get(3)).toBe(last)
    assignList(array, [])
    expect(listToJSON(array)).toEqual([])
  })

  it('compares JSON deeply by own keys', () => {
    expect(jsonEquals({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true)
    expect(jsonEquals({ a: 1 }, { a: 2 })).toBe(false)
    expect(jsonEquals({ constructor: 1 } as Json, { x: 1 })).toBe(false)
    expect(jsonEquals([1], { 0: 1 })).toBe(false)
  })
})
