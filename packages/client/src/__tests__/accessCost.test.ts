/**
 * Access cost does not grow with the memory (issue 11): the work of each call, counted in
 * entries decoded, elements stepped over and snapshot nodes rebuilt (model/counters.ts), is
 * the same on a dict or list of 10 and of 1,000. Counts, not times: times are noisy.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { countersNow, modelCounters } from '../model/counters.ts'
import { getRoot } from '../model/layout.ts'
import { SnapshotCache } from '../model/SnapshotCache.ts'
import { createViewContext } from '../model/ViewContext.ts'
import type { SyncedDict } from '../SyncedDict.ts'
import { createViews, dict, list } from './helpers/views.ts'

type Cost = { decoded: number; visited: number; snapshotNodes: number }

/** The counted work of `fn`. */
function work(fn: () => unknown): Cost {
  const before = countersNow()
  fn()
  return {
    decoded: modelCounters.decoded - before.decoded,
    visited: modelCounters.visited - before.visited,
    snapshotNodes: modelCounters.snapshotNodes - before.snapshotNodes,
  }
}

const keysOf = (size: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i]))

/** A memory of `size` keys, a nested dict and a list of `size` items; everything read once. */
function memoryOf(size: number) {
  const views = createViews()
  views.root.update({
    ...keysOf(size),
    nested: { a: { b: 1 } },
    list: Array.from({ length: size }, (_, i) => i),
  })
  const cache = new SnapshotCache(views.doc)
  cache.snapshot() // builds every index once
  return { ...views, cache }
}

describe('access cost', () => {
  it('dict get, has, size, set, overwrite and delete do the same work at 10 and 1,000 keys', () => {
    const cost = (size: number) => {
      const { root } = memoryOf(size)
      return {
        get: work(() => root.get(`k${size - 1}`)),
        getNested: work(() => root.get('nested')),
        has: work(() => root.has('k3')),
        missing: work(() => root.get('nope')),
        size: work(() => root.size),
        overwrite: work(() => root.set('k5', 'x')),
        sameValue: work(() => root.set('k5', 'x')),
        add: work(() => root.set('new', 1)),
        object: work(() => root.set('obj', { a: 1 })),
        diff: work(() => root.set('obj', { a: 2 })),
        delete: work(() => root.delete('k7')),
      }
    }
    const small = cost(10)
    expect(cost(1_000)).toEqual(small)
    // Reads decode nothing; a write decodes what it writes.
    expect(small.get.decoded + small.has.decoded + small.size.decoded).toBe(0)
    expect(small.overwrite.decoded).toBe(1)
    expect(small.delete.decoded).toBe(0)
    expect(modelCounters.indexFailures).toBe(0)
  })

  it('list get, set, insert, delete, push and length do the same work at 10 and 1,000 items', () => {
    const cost = (size: number) => {
      const items = list(memoryOf(size).root, 'list')
      // Many items instead of one run: as a list looks after edits here and there.
      for (let i = 0; i < size; i += 2) items.set(i, -i)
      return {
        length: work(() => items.length),
        get: work(() => items.get(size - 2)),
        set: work(() => items.set(3, 'x')),
        insert: work(() => items.insert(4, 'y')),
        delete: work(() => items.delete(5)),
        push: work(() => items.push('z')),
        pop: work(() => items.pop()),
        move: work(() => items.move(1, 6)),
      }
    }
    const small = cost(10)
    expect(cost(1_000)).toEqual(small)
    expect(small.length.decoded).toBe(0)
    expect(small.get.decoded).toBe(1)
  })

  it('getSnapshot after one change rebuilds only the changed path, decoding only the change', () => {
    const cost = (size: number) => {
      const { root, cache } = memoryOf(size)
      const snap = (fn: () => void) => work(() => (fn(), cache.snapshot()))
      return {
        top: snap(() => root.set('k1', 'x')),
        deep: snap(() => dict(dict(root, 'nested'), 'a').set('b', 2)),
        listItem: snap(() => list(root, 'list').set(2, 'y')),
        unchanged: work(() => cache.snapshot()),
      }
    }
    const small = cost(10)
    const large = cost(1_000)
    expect(large.top).toEqual(small.top)
    expect(large.deep).toEqual(small.deep)
    // A changed list is copied (a shallow copy of its items): only that is proportional.
    expect({ ...large.listItem, visited: 0 }).toEqual({ ...small.listItem, visited: 0 })
    expect(small.top.snapshotNodes).toBe(1) // the root
    expect(small.deep.snapshotNodes).toBe(3) // root, nested, a
    expect(small.listItem.snapshotNodes).toBe(2) // root, list
    expect(small.unchanged).toEqual({ decoded: 0, visited: 0, snapshotNodes: 0 })
  })

  it('a remote 1-key update costs a reader the same at 10 and 1,000 keys', () => {
    const cost = (size: number) => {
      const writer = createViews()
      writer.root.update(keysOf(size))
      const reader = new Y.Doc()
      Y.applyUpdate(reader, Y.encodeStateAsUpdate(writer.doc))
      const root: SyncedDict = createViewContext(reader).dictView(getRoot(reader))
      const cache = new SnapshotCache(reader)
      cache.snapshot()
      const updates: Uint8Array[] = []
      writer.doc.on('update', (update: Uint8Array) => updates.push(update))
      writer.root.set('k1', 'x')
      writer.root.set('fresh', { nested: [1] })
      writer.root.delete('k2')
      const apply = (update: Uint8Array) =>
        work(() => {
          Y.applyUpdate(reader, update, 'remote')
          cache.snapshot()
        })
      const result = { overwrite: apply(updates[0]!), nested: apply(updates[1]!), delete: apply(updates[2]!) }
      expect(root.get('k1')).toBe('x')
      expect(root.has('k2')).toBe(false)
      expect(cache.snapshot()).toEqual(writer.root.toJSON())
      return result
    }
    const small = cost(10)
    expect(cost(1_000)).toEqual(small)
    expect(small.overwrite.decoded).toBe(1)
    expect(small.delete.decoded).toBe(0)
  })
})
