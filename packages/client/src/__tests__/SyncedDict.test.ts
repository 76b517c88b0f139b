import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { ClosedError, ValidationError } from '../errors.ts'
import { getRoot, scanDict } from '../model/layout.ts'
import { SyncedDict } from '../SyncedDict.ts'
import { SyncedList } from '../SyncedList.ts'
import { RandomNetwork, connect, createViews, dict, list, random, stateOf } from './helpers/views.ts'

describe('SyncedDict', () => {
  it('sets and gets primitives', () => {
    const { root } = createViews()
    expect(root.set('cpu', 0.5)).toBe(root)
    root.set('name', 'box').set('up', true).set('none', null)
    expect(root.get('cpu')).toBe(0.5)
    expect(root.get('name')).toBe('box')
    expect(root.get('up')).toBe(true)
    expect(root.get('none')).toBe(null)
    expect(root.get('missing')).toBeUndefined()
    root.set('cpu', 0.7)
    expect(root.get('cpu')).toBe(0.7)
  })

  it('returns nested dicts and lists as views, the same instance while the node is the same', () => {
    const { root } = createViews()
    root.set('todos', [{ text: 'a' }]).set('settings', { theme: 'dark' })
    const todos = root.get('todos')
    expect(todos).toBeInstanceOf(SyncedList)
    expect(root.get('todos')).toBe(todos)
    expect(list(root, 'todos').get(0)).toBeInstanceOf(SyncedDict)
    expect(list(root, 'todos').get(0)).toBe(list(root, 'todos').get(0))
    const settings = dict(root, 'settings')
    expect(settings.get('theme')).toBe('dark')
    // An object written over a dict is a diff: the node, and so the view, stays.
    root.set('settings', { theme: 'light', size: 2 })
    expect(root.get('settings')).toBe(settings)
    expect(settings.toJSON()).toEqual({ theme: 'light', size: 2 })
    // A different kind of value replaces the node.
    root.set('settings', [1])
    expect(root.get('settings')).toBeInstanceOf(SyncedList)
    root.set('settings', { theme: 'dark' })
    expect(root.get('settings')).not.toBe(settings)
  })

  it('deletes, checks, lists and clears keys', () => {
    const { root, array } = createViews()
    root
      .set('a', 1)
      .set('b', { c: [2] })
      .set('d', 'x')
    expect(root.has('a')).toBe(true)
    expect(root.has('z')).toBe(false)
    expect(root.size).toBe(3)
    expect(root.keys()).toEqual(['a', 'b', 'd'])
    expect(root.values()).toEqual([1, root.get('b'), 'x'])
    expect(root.entries()).toEqual([
      ['a', 1],
      ['b', root.get('b')],
      ['d', 'x'],
    ])
    expect([...root]).toEqual(root.entries())
    expect(root.delete('a')).toBe(true)
    expect(root.delete('a')).toBe(false)
    expect(root.has('a')).toBe(false)
    expect(root.toJSON()).toEqual({ b: { c: [2] }, d: 'x' })
    root.clear()
    expect(root.size).toBe(0)
    expect(root.toJSON()).toEqual({})
    expect(array.length).toBe(0)
  })

  it('updates several keys in one transaction', () => {
    const { root, doc } = createViews()
    root.set('keep', 1)
    let updates = 0
    doc.on('update', () => updates++)
    root.update({ cpu: 0.7, mem: { used: 4 } })
    expect(updates).toBe(1)
    expect(root.toJSON()).toEqual({ keep: 1, cpu: 0.7, mem: { used: 4 } })
  })

  it('stores keys that are not identifiers, including __proto__', () => {
    const { root } = createViews()
    root.set('', 1).set('my key', 2).set('__proto__', { x: 1 }).set('constructor', 3)
    expect(root.get('')).toBe(1)
    expect(root.get('__proto__')).toBeInstanceOf(SyncedDict)
    expect(root.has('toString')).toBe(false)
    const json = root.toJSON()
    expect(Object.keys(json)).toEqual(['', 'my key', '__proto__', 'constructor'])
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype)
    root.set('__proto__', {})
    expect(root.toJSON()['__proto__']).toEqual({})
  })

  it('copies synced views that are written as values', () => {
    const { root } = createViews()
    root.set('a', { x: [1] })
    root.set('b', root.get('a'))
    expect(root.get('b')).not.toBe(root.get('a'))
    dict(root, 'b').set('y', 2)
    expect(root.toJSON()).toEqual({ a: { x: [1] }, b: { x: [1], y: 2 } })
  })

  it('refuses invalid values with the path, and changes nothing', () => {
    const { root, doc } = createViews()
    root.set('todos', [{ text: 'a' }])
    const before = stateOf(doc)
    expect(() => root.set('todos', [{ text: 'a' }, { due: new Date() }])).toThrow(
      new ValidationError(
        'todos[1].due is a Date: store it as a string or number (toISOString())',
        'todos[1].due',
      ),
    )
    expect(() => root.set('cpu', NaN)).toThrow('cpu is NaN')
    expect(() => root.set('my key', { a: undefined })).toThrow('["my key"].a is undefined')
    expect(() => root.update({ ok: 1, bad: () => 1 })).toThrow('bad is a function')
    expect(() => root.set(7 as unknown as string, 1)).toThrow(ValidationError)
    const item = list(root, 'todos').get<SyncedDict>(0)!
    expect(() => item.set('when', new Date())).toThrow('when is a Date')
    expect(stateOf(doc)).toBe(before)
    expect(root.toJSON()).toEqual({ todos: [{ text: 'a' }] })
  })

  it('asks the context before every write', () => {
    let closed = false
    const { root, doc } = createViews(new Y.Doc(), {
      assertWritable: () => {
        if (closed) throw new ClosedError('closed')
      },
    })
    root.set('a', { b: 1 })
    const nested = dict(root, 'a')
    closed = true
    const before = stateOf(doc)
    expect(() => root.set('a', 2)).toThrow(ClosedError)
    expect(() => root.update({ a: 2 })).toThrow(ClosedError)
    expect(() => root.delete('a')).toThrow(ClosedError)
    expect(() => root.clear()).toThrow(ClosedError)
    expect(() => nested.set('b', 2)).toThrow(ClosedError)
    expect(stateOf(doc)).toBe(before)
    expect(root.get('a')).toBe(nested)
  })

  it('writes through the context transaction', () => {
    const origins: unknown[] = []
    const doc = new Y.Doc()
    const { root } = createViews(doc, { transact: (fn) => doc.transact(fn, 'mine') })
    doc.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin))
    root.set('a', 1)
    root.delete('a')
    root.update({ b: 1 })
    root.clear()
    expect(origins).toEqual(['mine', 'mine', 'mine', 'mine'])
  })

  it('ignores raw elements that are not entries', () => {
    const { root, array } = createViews()
    root.set('a', 1)
    array.insert(0, [{ foo: 1 }, { k: 5, v: 1 }, { k: 'x', v: { nested: true } }, new Y.Text('t')])
    array.push([['k', 'v'], 'text', new Y.Map()])
    root.set('b', 2)
    expect(root.toJSON()).toEqual({ a: 1, b: 2 })
    expect(root.keys()).toEqual(['a', 'b'])
    expect(root.has('x')).toBe(false)
    expect(root.get('x')).toBeUndefined()
    expect(root.delete('x')).toBe(false)
    root.set('a', 3)
    expect(root.toJSON()).toEqual({ b: 2, a: 3 })
  })
})

describe('SyncedDict merging', { timeout: 30_000 }, () => {
  function twoPeers() {
    const a = createViews()
    const b = createViews()
    return { a, b }
  }

  function exchange(x: Y.Doc, y: Y.Doc): void {
    const ux = Y.encodeStateAsUpdate(x)
    const uy = Y.encodeStateAsUpdate(y)
    Y.applyUpdate(y, ux)
    Y.applyUpdate(x, uy)
  }

  it('concurrent sets of one key converge to one winner, and the next write drops the loser', () => {
    const { a, b } = twoPeers()
    a.root.set('k', 'from a').set('other', 1)
    b.root.set('k', 'from b')
    exchange(a.doc, b.doc)
    expect(a.root.get('k')).toBe(b.root.get('k'))
    expect(a.root.toJSON()).toEqual(b.root.toJSON())
    expect(scanDict(a.array).shadowed).toHaveLength(1)
    const winner = a.root.get('k')
    // A write of another key cleans the duplicate up, and the cleanup syncs.
    b.root.set('unrelated', true)
    expect(scanDict(b.array).shadowed).toHaveLength(0)
    exchange(a.doc, b.doc)
    expect(scanDict(a.array).shadowed).toHaveLength(0)
    expect(a.root.get('k')).toBe(winner)
    expect(a.root.toJSON()).toEqual(b.root.toJSON())
  })

  it('concurrent sets of one nested key converge, and cleaning up on both sides is harmless', () => {
    const { a, b } = twoPeers()
    a.root.set('n', { x: 1 })
    b.root.set('n', { y: 2 })
    exchange(a.doc, b.doc)
    expect(a.root.toJSON()).toEqual(b.root.toJSON())
    a.root.set('z', 1)
    b.root.delete('nothing')
    exchange(a.doc, b.doc)
    expect(scanDict(a.array).shadowed).toEqual([])
    expect(scanDict(b.array).shadowed).toEqual([])
    expect(a.root.toJSON()).toEqual(b.root.toJSON())
    expect(Object.keys(a.root.toJSON())).toEqual(['n', 'z'])
  })

  it('keeps concurrent writes to different fields of a nested dict', () => {
    const { a, b } = twoPeers()
    a.root.set('settings', { theme: 'dark', size: 1 })
    exchange(a.doc, b.doc)
    a.root.set('settings', { theme: 'light', size: 1 })
    dict(b.root, 'settings').set('size', 2)
    b.root.set('other', 0)
    exchange(a.doc, b.doc)
    expect(a.root.toJSON()).toEqual({ settings: { theme: 'light', size: 2 }, other: 0 })
    expect(b.root.toJSON()).toEqual(a.root.toJSON())
  })

  it('converges under a random network with reordered and duplicated messages', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const net = new RandomNetwork(seed, 3)
      const peers = net.docs.map((doc) => createViews(doc).root)
      for (let i = 0; i < 150; i++) {
        const peer = net.pick(peers)
        const key = net.pick(['a', 'b', 'c'])
        const op = net.next()
        if (op < 0.4) peer.set(key, i)
        else if (op < 0.6) peer.set(key, { x: i, y: [i] })
        else if (op < 0.8) {
          const nested = peer.get(key)
          if (nested instanceof SyncedDict) nested.set(net.pick(['x', 'z']), i)
          else peer.set(key, { z: i })
        } else if (op < 0.9) peer.delete(key)
        else peer.update({ a: i, c: null })
        net.step()
      }
      net.flush()
      const expected = peers[0]!.toJSON()
      for (const peer of peers) expect(peer.toJSON(), `seed ${seed}`).toEqual(expected)
    }
  })

  it('keeps live-synced documents identical', () => {
    const a = createViews()
    const b = createViews()
    connect(a.doc, b.doc)
    a.root.set('x', { list: [1, 2] })
    list(dict(b.root, 'x'), 'list').push(3)
    expect(a.root.toJSON()).toEqual({ x: { list: [1, 2, 3] } })
  })
})

describe('SyncedDict document size', { timeout: 30_000 }, () => {
  const LIMIT = 64 * 1024

  it('stays bounded under 100,000 overwrites of one key', () => {
    const { root, doc } = createViews()
    for (let i = 0; i < 100_000; i++) root.set('cpu', i)
    expect(root.get('cpu')).toBe(99_999)
    expect(Y.encodeStateAsUpdate(doc).length).toBeLessThan(LIMIT)
  })

  it('stays bounded under 100,000 overwrites of 10 keys, round-robin', () => {
    const { root, doc } = createViews()
    for (let i = 0; i < 100_000; i++) root.set(`k${i % 10}`, i)
    expect(root.size).toBe(10)
    expect(Y.encodeStateAsUpdate(doc).length).toBeLessThan(LIMIT)
  })

  it('stays bounded under 100,000 overwrites of a nested field', () => {
    const { root, doc } = createViews()
    root.set('stats', { cpu: 0, label: 'x' })
    const stats = dict(root, 'stats')
    for (let i = 0; i < 100_000; i++) stats.set('cpu', i)
    expect(root.toJSON()).toEqual({ stats: { cpu: 99_999, label: 'x' } })
    expect(Y.encodeStateAsUpdate(doc).length).toBeLessThan(LIMIT)
  })

  it('stays bounded when { value, ts } is written 20,000 times to one key', () => {
    const { root, doc } = createViews()
    for (let i = 0; i < 20_000; i++) root.set('metric', { value: i, ts: i })
    expect(root.toJSON()).toEqual({ metric: { value: 19_999, ts: 19_999 } })
    expect(Y.encodeStateAsUpdate(doc).length).toBeLessThan(LIMIT)
  })

  // With every new entry appended at the end, the writers' entries interleaved and each
  // overwrite left a tombstone of its own: these two grew to 27.5 KB and 43.7 KB (now 1.3 KB and
  // 2.1 KB).
  it('stays small when 10 writers take 300 turns rewriting their own keys', () => {
    const peers = Array.from({ length: 10 }, () => createViews())
    connect(...peers.map((peer) => peer.doc))
    for (let turn = 0; turn < 300; turn++) {
      peers.forEach(({ doc, root }, writer) =>
        doc.transact(() => {
          for (let key = 0; key < 3; key++) root.set(`w${writer}k${key}`, turn)
        }),
      )
    }
    expect(peers[0]!.root.size).toBe(30)
    expect(peers[0]!.root.get('w9k2')).toBe(299)
    expect(Y.encodeStateAsUpdate(peers[0]!.doc).length).toBeLessThan(4 * 1024)
  })

  it('stays small when 5 writers set 6,000 random keys of 50', () => {
    const next = random(7)
    const peers = Array.from({ length: 5 }, () => createViews())
    connect(...peers.map((peer) => peer.doc))
    for (let i = 0; i < 6_000; i++) peers[Math.floor(next() * 5)]!.root.set(`k${Math.floor(next() * 50)}`, i)
    expect(peers[0]!.root.toJSON()).toEqual(peers[4]!.root.toJSON())
    expect(Y.encodeStateAsUpdate(peers[0]!.doc).length).toBeLessThan(4 * 1024)
  })

  it('the root array is the memory root', () => {
    const { doc, array } = createViews()
    expect(getRoot(doc)).toBe(array)
  })
})
