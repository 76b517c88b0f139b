import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { getRoot } from '../model/layout.ts'
import type { SyncedDict } from '../SyncedDict.ts'
import { SnapshotCache } from '../model/SnapshotCache.ts'
import { createViews, dict, list } from './helpers/views.ts'

type Tree = {
  a: { x: number[] }
  b: number
  l: Array<{ n: number; tags: string[] }>
}

function setup() {
  const views = createViews()
  views.root
    .set('a', { x: [1] })
    .set('b', 1)
    .set('l', [
      { n: 0, tags: ['t'] },
      { n: 1, tags: [] },
    ])
  const cache = new SnapshotCache(views.doc)
  return { ...views, cache, snap: () => cache.snapshot() as unknown as Tree }
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen)
}

describe('SnapshotCache', () => {
  it('is the plain content, frozen all the way down', () => {
    const { root, snap } = setup()
    const value = snap()
    expect(value).toEqual(root.toJSON())
    expect(isDeepFrozen(value)).toBe(true)
    expect(() => {
      ;(value as { b: number }).b = 2
    }).toThrow(TypeError)
    expect(() => {
      value.l.push({ n: 2, tags: [] })
    }).toThrow(TypeError)
  })

  it('returns the same object until something changes', () => {
    const { root, snap } = setup()
    const first = snap()
    expect(snap()).toBe(first)
    root.set('b', 1) // the same value: no change
    expect(snap()).toBe(first)
    root.set('b', 2)
    const second = snap()
    expect(second).not.toBe(first)
    expect(second.b).toBe(2)
    expect(first.b).toBe(1)
    expect(snap()).toBe(second)
  })

  it('shares unchanged subtrees with the previous snapshot', () => {
    const { root, snap } = setup()
    const prev = snap()
    root.set('b', 2)
    const next = snap()
    expect(next.a).toBe(prev.a)
    expect(next.l).toBe(prev.l)
    expect(next.l[0]!.tags).toBe(prev.l[0]!.tags)
  })

  it('rebuilds the path from a deep change up to the root, and nothing else', () => {
    const { root, snap } = setup()
    const prev = snap()
    const item = list(root, 'l').get<SyncedDict>(0)!
    list(item, 'tags').push('u')
    const next = snap()
    expect(next.l[0]!.tags).toEqual(['t', 'u'])
    expect(next).not.toBe(prev)
    expect(next.l).not.toBe(prev.l)
    expect(next.l[0]).not.toBe(prev.l[0])
    expect(next.l[1]).toBe(prev.l[1])
    expect(next.a).toBe(prev.a)
    expect(next.a.x).toBe(prev.a.x)
  })

  it('follows remote changes', () => {
    const { doc, snap } = setup()
    const other = createViews()
    Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(doc))
    other.doc.on('update', (update: Uint8Array) => Y.applyUpdate(doc, update))
    const prev = snap()
    dict(other.root, 'a').set('y', true)
    const next = snap()
    expect(next).toEqual(other.root.toJSON())
    expect(next.a).not.toBe(prev.a)
    expect(next.l).toBe(prev.l)
  })

  it('is fresh in afterTransaction listeners added after it', () => {
    const { root, doc, cache } = setup()
    const seen: unknown[] = []
    doc.on('afterTransaction', () => seen.push(cache.snapshot()['b']))
    root.set('b', 5)
    root.set('b', 6)
    expect(seen).toEqual([5, 6])
  })

  it('is fresh inside a transaction, and right after it', () => {
    const { root, doc, cache } = setup()
    const before = cache.snapshot()
    doc.transact(() => {
      root.set('b', 7)
      expect(cache.snapshot()['b']).toBe(7)
      // A node created in this transaction, then changed in it.
      root.set('fresh', { v: 1 })
      expect(cache.snapshot()['fresh']).toEqual({ v: 1 })
      dict(root, 'fresh').set('v', 2)
      expect(cache.snapshot()['fresh']).toEqual({ v: 2 })
      expect(cache.snapshot()['a']).toBe(before['a'])
    })
    expect(cache.snapshot()).toEqual(root.toJSON())
    expect(cache.snapshot()['fresh']).toEqual({ v: 2 })
    dict(root, 'fresh').set('v', 3)
    expect(cache.snapshot()['fresh']).toEqual({ v: 3 })
  })

  it('sees a transaction started by a listener of another transaction', () => {
    const { root, doc, cache } = setup()
    const seen: unknown[] = []
    let once = true
    doc.on('afterTransaction', () => {
      seen.push(cache.snapshot()['b'])
      if (once) {
        once = false
        // Its cleanup (and afterTransaction) waits until this one's is over.
        root.set('b', 100)
        seen.push(cache.snapshot()['b'])
      }
    })
    root.set('b', 50)
    expect(seen).toEqual([50, 100, 100])
    expect(cache.snapshot()['b']).toBe(100)
  })

  it('reads a node as the kind its wrapper says, even when a peer changes the tag', () => {
    const { doc, root, cache, snap } = setup()
    expect(snap().a).toEqual({ x: [1] })
    const wrapper = getRoot(doc)
      .toArray()
      .find((raw) => raw instanceof Y.Map && raw.get('k') === 'a') as Y.Map<unknown>
    wrapper.set('t', 'l')
    // Read as a list, the dict's entry `x` (a wrapper) is an item.
    expect(cache.snapshot()['a']).toEqual([[1]])
    expect(cache.snapshot()).toEqual(root.toJSON())
    wrapper.set('t', 'd')
    expect(cache.snapshot()['a']).toEqual({ x: [1] })
  })

  it('keeps a "__proto__" key as data', () => {
    const { root, cache } = setup()
    root.set('__proto__', { polluted: true })
    const value = cache.snapshot()
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toContain('__proto__')
    expect((value as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('stops following the document after destroy', () => {
    const { root, cache } = setup()
    const before = cache.snapshot()
    cache.destroy()
    root.set('b', 3)
    expect(cache.snapshot()).toBe(before)
  })
})
