import 'fake-indexeddb/auto'
import { entries } from 'idb-keyval'
import { createStore } from 'idb-keyval'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FallbackStorage } from '../offline/FallbackStorage.ts'
import { createIndexedDbStorage } from '../offline/indexedDbStorage.ts'
import { createMemoryStorage } from '../offline/memoryStorage.ts'
import type { StorageAdapter, StorageError } from '../index.ts'

let counter = 0
const uniqueName = (): string => `mem-${++counter}`

/** A change that sets `key` to `value` in a fresh document (its own Yjs client). */
function change(key: string, value: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getMap('root').set(key, value)
  return Y.encodeStateAsUpdate(doc)
}

function toJSON(...updates: Array<Uint8Array | null>): unknown {
  const doc = new Y.Doc()
  for (const update of updates) if (update) Y.applyUpdate(doc, update)
  return doc.getMap('root').toJSON()
}

async function rawEntries(): Promise<Array<[IDBValidKey, unknown]>> {
  return entries(createStore('remem', 'memories'))
}

describe.each<[string, () => StorageAdapter]>([
  ['indexeddb', () => createIndexedDbStorage()],
  ['memory', () => createMemoryStorage()],
])('%s storage', (_kind, create) => {
  it('keeps each client’s queue apart and loads every queue', async () => {
    const adapter = create()
    const name = uniqueName()
    const tabA = adapter.open('ws://relay', name, 'tab-a')
    const tabB = adapter.open('ws://relay', name, 'tab-b')
    // Both tabs append their first change at once: neither may overwrite the other.
    const a1 = tabA.append(change('a', '1'))
    const b1 = tabB.append(change('b', '1'))
    const a2 = tabA.append(change('a2', '2'))
    await Promise.all([a1.written, b1.written, a2.written])
    expect(a1.key).not.toEqual(b1.key)

    const later = adapter.open('ws://relay', name, 'tab-c')
    const stored = await later.load()
    expect(stored.doc).toBeNull()
    expect(stored.pending).toHaveLength(3)
    expect(toJSON(...stored.pending.map((entry) => entry.update))).toEqual({
      a: '1',
      b: '1',
      a2: '2',
    })
    // Other memories and relays are apart.
    expect((await adapter.open('ws://other', name, 'x').load()).pending).toHaveLength(0)
    expect((await adapter.open('ws://relay', uniqueName(), 'x').load()).pending).toHaveLength(0)
  })

  it('removes acknowledged changes only together with a document holding them', async () => {
    const adapter = create()
    const name = uniqueName()
    const tab = adapter.open('ws://relay', name, 'tab')
    const first = tab.append(change('x', '1'))
    const second = tab.append(change('y', '2'))
    const doc = toDoc(change('x', '1'))
    await tab.checkpoint(Y.encodeStateAsUpdate(doc), [first.key])
    const stored = await adapter.open('ws://relay', name, 'other').load()
    expect(stored.pending.map((entry) => entry.key)).toEqual([second.key])
    expect(toJSON(stored.doc, ...stored.pending.map((entry) => entry.update))).toEqual({
      x: '1',
      y: '2',
    })
  })

  it('merges concurrent checkpoints of two tabs instead of overwriting', async () => {
    const adapter = create()
    const name = uniqueName()
    const tabA = adapter.open('ws://relay', name, 'tab-a')
    const tabB = adapter.open('ws://relay', name, 'tab-b')
    await Promise.all([
      tabA.checkpoint(change('fromA', 'a'), []),
      tabB.checkpoint(change('fromB', 'b'), []),
    ])
    const stored = await adapter.open('ws://relay', name, 'tab-c').load()
    expect(toJSON(stored.doc)).toEqual({ fromA: 'a', fromB: 'b' })
  })
})

function toDoc(...updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc
}

describe('IndexedDB layout', () => {
  it('uses [url, memory, "doc"] and [url, memory, "q", clientId, n] keys', async () => {
    const name = uniqueName()
    const tab = createIndexedDbStorage().open('ws://layout', name, 'client-1')
    await tab.append(change('k', 'v')).written
    await tab.checkpoint(change('k', 'v'), [])
    const keys = (await rawEntries())
      .map(([key]) => key)
      .filter((key) => Array.isArray(key) && key[1] === name)
    expect(keys).toEqual([
      ['ws://layout', name, 'doc'],
      ['ws://layout', name, 'q', 'client-1', 1],
    ])
  })

  it('stores a copy of a view, not the whole buffer behind it', async () => {
    const name = uniqueName()
    const tab = createIndexedDbStorage().open('ws://layout', name, 'client-1')
    const bytes = change('k', 'v')
    const big = new Uint8Array(100_000)
    big.set(bytes, 50)
    await tab.append(big.subarray(50, 50 + bytes.byteLength)).written
    const [entry] = (await tab.load()).pending
    expect(entry?.update.buffer.byteLength).toBe(bytes.byteLength)
  })
})

describe('FallbackStorage', () => {
  it('switches to memory at the first failure, reports once, and keeps working', async () => {
    const failures: StorageError[] = []
    const failing: StorageAdapter = {
      kind: 'indexeddb',
      open: () => ({
        load: () => Promise.reject(new DOMException('blocked', 'SecurityError')),
        append: () => ({
          key: 1,
          written: Promise.reject(new DOMException('full', 'QuotaExceededError')),
        }),
        checkpoint: () => Promise.reject(new Error('no')),
        close: async () => {},
      }),
    }
    const storage = new FallbackStorage(failing, (error) => failures.push(error))
    expect(storage.kind).toBe('indexeddb')
    const memory = storage.open('ws://relay', 'm', 'tab')
    expect(await memory.load()).toEqual({ doc: null, pending: [] })
    expect(storage.kind).toBe('memory')
    await memory.append(change('a', '1')).written
    await memory.checkpoint(change('a', '1'), [])
    expect(failures).toHaveLength(1)
    expect(failures[0]?.code).toBe('storage')
    expect(failures[0]?.message).toMatch(/SecurityError/)
  })

  it('falls back when a write fails in the middle of a session', async () => {
    const failures: StorageError[] = []
    let full = false
    const inner = createMemoryStorage()
    const flaky: StorageAdapter = {
      kind: 'indexeddb',
      open: (url, name, id) => {
        const opened = inner.open(url, name, id)
        return {
          ...opened,
          append: (update) =>
            full
              ? {
                  key: 'x',
                  written: Promise.reject(new DOMException('full', 'QuotaExceededError')),
                }
              : opened.append(update),
        }
      },
    }
    const storage = new FallbackStorage(flaky, (error) => failures.push(error))
    const memory = storage.open('ws://relay', 'm', 'tab')
    await memory.append(change('a', '1')).written
    expect(storage.kind).toBe('indexeddb')
    full = true
    await memory.append(change('b', '2')).written
    expect(storage.kind).toBe('memory')
    expect(failures.map((error) => error.message)).toEqual([
      expect.stringMatching(/QuotaExceededError/),
    ])
  })
})
