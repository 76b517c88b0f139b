import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { ClosedError, ValidationError } from '../errors.ts'
import type { Json } from '../model/layout.ts'
import { SyncedDict } from '../SyncedDict.ts'
import { SyncedList } from '../SyncedList.ts'
import { RandomNetwork, createViews, list, random, stateOf } from './helpers/views.ts'

function setup(initial: Json[] = []) {
  const views = createViews()
  views.root.set('l', initial)
  const l = list(views.root, 'l')
  const raw = views.root.get('l') && (views.doc.getArray('root').get(0) as Y.Map<unknown>).get('v')
  return { ...views, l, raw: raw as Y.Array<unknown> }
}

describe('SyncedList', () => {
  it('pushes, reads and counts', () => {
    const { l } = setup()
    expect(l.length).toBe(0)
    expect(l.push(1, 'two')).toBe(2)
    expect(l.push({ three: 3 }, [4])).toBe(4)
    expect(l.length).toBe(4)
    expect(l.get(0)).toBe(1)
    expect(l.get(1)).toBe('two')
    expect(l.get(2)).toBeInstanceOf(SyncedDict)
    expect(l.get(3)).toBeInstanceOf(SyncedList)
    expect(l.get(2)).toBe(l.get(2))
    expect(l.get(4)).toBeUndefined()
    expect(l.get(-1)).toBeUndefined()
    expect(l.get(0.5)).toBeUndefined()
    expect(l.toJSON()).toEqual([1, 'two', { three: 3 }, [4]])
  })

  it('unshifts and inserts', () => {
    const { l } = setup(['c'])
    expect(l.unshift('a', 'b')).toBe(3)
    l.insert(3, 'e')
    l.insert(3, 'd')
    l.insert(0)
    expect(l.toJSON()).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('deletes ranges', () => {
    const { l } = setup([0, 1, 2, 3, 4, 5])
    l.delete(0)
    expect(l.toJSON()).toEqual([1, 2, 3, 4, 5])
    l.delete(1, 3)
    expect(l.toJSON()).toEqual([1, 5])
    l.delete(1, 0)
    expect(l.toJSON()).toEqual([1, 5])
    l.delete(0, 2)
    expect(l.toJSON()).toEqual([])
  })

  it('sets items, as a diff when an object goes over a dict', () => {
    const { l } = setup([{ text: 'a', done: false }, 'x', [1, 2]])
    const first = l.get(0)
    l.set(0, { text: 'a', done: true })
    expect(l.get(0)).toBe(first)
    const inner = l.get(2)
    l.set(2, [1, 2, 3])
    expect(l.get(2)).toBe(inner)
    l.set(1, { now: 'a dict' })
    l.set(0, 'now a string')
    expect(l.toJSON()).toEqual(['now a string', { now: 'a dict' }, [1, 2, 3]])
  })

  it('moves an item to its final index', () => {
    for (let length = 1; length <= 5; length++) {
      for (let from = 0; from < length; from++) {
        for (let to = 0; to < length; to++) {
          const start = Array.from({ length }, (_, i) => `i${i}`)
          const { l } = setup(start)
          l.move(from, to)
          const expected = [...start]
          const [item] = expected.splice(from, 1)
          expected.splice(to, 0, item!)
          expect(l.toJSON(), `move(${from}, ${to}) of ${length}`).toEqual(expected)
        }
      }
    }
  })

  it('moves nested items as copies of their content', () => {
    const { l } = setup([{ a: [1] }, 'b'])
    l.move(0, 1)
    expect(l.toJSON()).toEqual(['b', { a: [1] }])
  })

  it('pops, shifts and splices like an array, returning JSON', () => {
    const { l } = setup([{ a: 1 }, 2, 3, 4, 5, 6])
    expect(l.shift()).toEqual({ a: 1 })
    expect(l.pop()).toBe(6)
    expect(l.toJSON()).toEqual([2, 3, 4, 5])
    expect(l.splice(1, 2, 'x', { y: 1 }, 'z')).toEqual([3, 4])
    expect(l.toJSON()).toEqual([2, 'x', { y: 1 }, 'z', 5])
    expect(l.splice(-2)).toEqual(['z', 5])
    expect(l.splice(10, 1, 'end')).toEqual([])
    expect(l.splice(0, 0, 'start')).toEqual([])
    expect(l.splice(1, Infinity)).toEqual([2, 'x', { y: 1 }, 'end'])
    expect(l.toJSON()).toEqual(['start'])
    l.clear()
    expect(l.pop()).toBeUndefined()
    expect(l.shift()).toBeUndefined()
    expect(l.length).toBe(0)
  })

  it('splices with the same results as Array.prototype.splice', () => {
    const next = random(7)
    for (let i = 0; i < 300; i++) {
      const start = Array.from({ length: Math.floor(next() * 6) }, (_, j) => j)
      const { l } = setup(start)
      const at = Math.floor(next() * 16) - 8
      const count = next() < 0.2 ? undefined : Math.floor(next() * 8) - 2
      const values = Array.from({ length: Math.floor(next() * 3) }, (_, j) => `v${j}`)
      const model: Json[] = [...start]
      const expectedRemoved =
        count === undefined ? model.splice(at) : model.splice(at, count, ...values)
      const removed = count === undefined ? l.splice(at) : l.splice(at, count, ...values)
      expect(removed, `splice(${at}, ${count})`).toEqual(expectedRemoved)
      expect(l.toJSON()).toEqual(model)
    }
  })

  it('reads as an array', () => {
    const { l } = setup([1, { a: 2 }, 3])
    const items = l.toArray()
    expect(items[1]).toBe(l.get(1))
    expect([...l]).toEqual(items)
    expect(l.map((value, i) => (typeof value === 'number' ? value * 10 : i))).toEqual([10, 1, 30])
    const seen: number[] = []
    l.forEach((_, i) => seen.push(i))
    expect(seen).toEqual([0, 1, 2])
    expect(l.filter((value) => typeof value === 'number')).toEqual([1, 3])
    expect(l.find((value) => value instanceof SyncedDict)).toBe(l.get(1))
    expect(l.indexOf(3)).toBe(2)
    expect(l.indexOf(l.get(1))).toBe(1)
    expect(l.indexOf(4)).toBe(-1)
  })

  it('refuses indices out of range with the valid range, and changes nothing', () => {
    const { l, doc } = setup(['a', 'b'])
    const before = stateOf(doc)
    expect(() => l.insert(3, 'x')).toThrow(
      new RangeError('index 3 is out of range: use an integer from 0 to 2 (length 2)'),
    )
    expect(() => l.delete(2)).toThrow('index 2 is out of range: use an integer from 0 to 1')
    expect(() => l.delete(1, 2)).toThrow('count 2 is out of range: use an integer from 0 to 1')
    expect(() => l.delete(0, -1)).toThrow(RangeError)
    expect(() => l.set(-1, 'x')).toThrow('index -1 is out of range')
    expect(() => l.set(0.5, 'x')).toThrow('index 0.5 is out of range')
    expect(() => l.move(0, 2)).toThrow('to 2 is out of range')
    expect(() => l.move(5, 0)).toThrow('from 5 is out of range')
    expect(stateOf(doc)).toBe(before)
    l.clear()
    expect(() => l.delete(0)).toThrow(
      new RangeError('index 0 is out of range: the list is empty (length 0)'),
    )
  })

  it('validates every value before any change', () => {
    const { l, doc } = setup([{ a: 1 }])
    const before = stateOf(doc)
    expect(() => l.push(1, { due: new Date() })).toThrow(
      new ValidationError(
        '[2].due is a Date: store it as a string or number (toISOString())',
        '[2].due',
      ),
    )
    expect(() => l.unshift(NaN)).toThrow('[0] is NaN')
    expect(() => l.insert(1, 'ok', undefined)).toThrow('[2] is undefined: use null')
    expect(() => l.set(0, { a: () => 1 })).toThrow('[0].a is a function')
    expect(() => l.splice(0, 1, 'ok', 1n)).toThrow('[1] is a BigInt')
    expect(() => l.get<SyncedDict>(0)!.set('b', Infinity)).toThrow('b is Infinity')
    expect(stateOf(doc)).toBe(before)
  })

  it('asks the context before every write', () => {
    let closed = false
    const views = createViews(new Y.Doc(), {
      assertWritable: () => {
        if (closed) throw new ClosedError('closed')
      },
    })
    views.root.set('l', [1, 2, 3])
    const l = list(views.root, 'l')
    closed = true
    const before = stateOf(views.doc)
    for (const write of [
      () => l.push(1),
      () => l.unshift(1),
      () => l.insert(0, 1),
      () => l.delete(0),
      () => l.set(0, 5),
      () => l.move(0, 1),
      () => l.pop(),
      () => l.shift(),
      () => l.splice(0, 1),
      () => l.clear(),
    ]) {
      expect(write).toThrow(ClosedError)
    }
    expect(stateOf(views.doc)).toBe(before)
  })

  it('skips raw elements that are not items, for reads and for writes', () => {
    const { l, raw } = setup(['a', 'b', 'c'])
    raw.insert(0, [{ foo: 1 }])
    raw.insert(2, [new Y.Text('t'), [1, 2], new Y.Map()])
    raw.push([{ bar: 2 }])
    // raw: {foo}, a, Text, [1, 2], Map, b, c, {bar}
    expect(raw.length).toBe(8)
    expect(l.length).toBe(3)
    expect(l.toJSON()).toEqual(['a', 'b', 'c'])
    expect(l.get(1)).toBe('b')
    l.insert(1, 'x')
    expect(l.toJSON()).toEqual(['a', 'x', 'b', 'c'])
    l.delete(2)
    expect(l.toJSON()).toEqual(['a', 'x', 'c'])
    l.set(2, 'C')
    l.move(0, 2)
    expect(l.toJSON()).toEqual(['x', 'C', 'a'])
    expect(l.splice(1, 1)).toEqual(['C'])
    expect(l.toJSON()).toEqual(['x', 'a'])
  })

  it('matches an array model under random operations with garbage interleaved', () => {
    const next = random(42)
    const { l, raw } = setup()
    const model: Json[] = []
    const garbage = () => (next() < 0.5 ? { junk: Math.floor(next() * 100) } : new Y.Text('junk'))
    for (let step = 0; step < 800; step++) {
      const n = model.length
      const index = Math.floor(next() * (n + 1))
      const op = Math.floor(next() * 8)
      if (op === 0) raw.insert(Math.floor(next() * (raw.length + 1)), [garbage()])
      else if (op === 1) {
        l.push(step)
        model.push(step)
      } else if (op === 2) {
        l.insert(index, step, { s: step })
        model.splice(index, 0, step, { s: step })
      } else if (op === 3 && n > 0) {
        const count = Math.floor(next() * Math.min(3, n - (index % n) + 1))
        l.delete(index % n, count)
        model.splice(index % n, count)
      } else if (op === 4 && n > 0) {
        l.set(index % n, [step])
        model[index % n] = [step]
      } else if (op === 5 && n > 0) {
        const to = Math.floor(next() * n)
        l.move(index % n, to)
        const [item] = model.splice(index % n, 1)
        model.splice(to, 0, item!)
      } else if (op === 6) {
        expect(l.splice(index - 2, 2, 'a', 'b')).toEqual(model.splice(index - 2, 2, 'a', 'b'))
      } else if (op === 7 && next() < 0.3) {
        expect(l.pop()).toEqual(model.pop())
      }
      expect(l.toJSON(), `step ${step}`).toEqual(model)
      expect(l.length).toBe(model.length)
    }
  })
})

describe('SyncedList merging', { timeout: 30_000 }, () => {
  it('keeps all concurrent inserts, and every copy ends identical', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const net = new RandomNetwork(seed, 3)
      const peers = net.docs.map((doc) => createViews(doc).root)
      peers[0]!.set('l', [])
      net.flush()
      const inserted: string[] = []
      for (let i = 0; i < 120; i++) {
        const p = Math.floor(net.next() * peers.length)
        const l = list(peers[p]!, 'l')
        const value = `p${p}-${i}`
        inserted.push(value)
        l.insert(Math.floor(net.next() * (l.length + 1)), value)
        net.step()
      }
      net.flush()
      const result = list(peers[0]!, 'l').toJSON()
      expect([...result].sort(), `seed ${seed}`).toEqual([...inserted].sort())
      for (const peer of peers) expect(list(peer, 'l').toJSON()).toEqual(result)
    }
  })

  it('converges under concurrent inserts, deletes, sets and moves', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const net = new RandomNetwork(seed, 3)
      const peers = net.docs.map((doc) => createViews(doc).root)
      peers[0]!.set('l', [0, 1, 2, 3])
      net.flush()
      for (let i = 0; i < 150; i++) {
        const l = list(net.pick(peers), 'l')
        const n = l.length
        const op = net.next()
        if (op < 0.3 || n === 0) l.push({ i })
        else if (op < 0.5) l.delete(Math.floor(net.next() * n))
        else if (op < 0.7) l.move(Math.floor(net.next() * n), Math.floor(net.next() * n))
        else if (op < 0.85) l.set(Math.floor(net.next() * n), i)
        else l.splice(0, 1, 'a', 'b')
        net.step()
      }
      net.flush()
      const result = list(peers[0]!, 'l').toJSON()
      for (const peer of peers) expect(list(peer, 'l').toJSON(), `seed ${seed}`).toEqual(result)
    }
  })

  it('keeps an item concurrently inserted next to a moved one', () => {
    const a = createViews()
    const b = createViews()
    a.root.set('l', ['x', 'y', 'z'])
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    list(a.root, 'l').move(0, 2)
    list(b.root, 'l').insert(1, 'new')
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    expect(list(a.root, 'l').toJSON()).toEqual(['new', 'y', 'z', 'x'])
    expect(list(b.root, 'l').toJSON()).toEqual(['new', 'y', 'z', 'x'])
  })
})
