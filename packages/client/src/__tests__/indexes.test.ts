/**
 * The dict and list indexes (model/DictIndex.ts, ListIndex.ts, indexes.ts) answer exactly
 * what a scan of the array answers — winners, ties, key order, strays — under random
 * concurrent edits, reordered and duplicated messages, and elements a hostile peer wrote.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { modelCounters } from '../model/counters.ts'
import { decodeDictEntry, docToJSON, scanDict, scanList } from '../model/layout.ts'
import { SnapshotCache } from '../model/SnapshotCache.ts'
import { SyncedDict } from '../SyncedDict.ts'
import { SyncedList } from '../SyncedList.ts'
import { RandomNetwork, createViews } from './helpers/views.ts'

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f']

type Peer = ReturnType<typeof createViews> & { cache: SnapshotCache }

/** Every view of `peer` agrees with a scan of its arrays, at every level. */
function check(peer: Peer, where: string): void {
  const { root, array, cache, doc } = peer
  const entries = scanDict(array).entries
  expect(root.keys(), `${where}: keys`).toEqual([...entries.keys()])
  expect(root.size, `${where}: size`).toBe(entries.size)
  // The snapshot reads every node through its index; JSON text compares key order too.
  expect(JSON.stringify(cache.snapshot()), `${where}: snapshot`).toBe(JSON.stringify(docToJSON(doc)))
  for (const key of KEYS) {
    const scanned = entries.get(key)
    const value = root.get(key)
    if (!scanned) expect(value, `${where}: ${key}`).toBeUndefined()
    else if (scanned.kind === 'value') expect(value, `${where}: ${key}`).toBe(scanned.value)
    else expect(value instanceof SyncedDict ? 'dict' : 'list', `${where}: ${key}`).toBe(scanned.kind)
    if (value instanceof SyncedList && scanned?.kind === 'list') {
      const items = scanList(scanned.value)
      expect(value.length, `${where}: ${key}.length`).toBe(items.length)
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!
        if (item.kind === 'value') expect(value.get(i), `${where}: ${key}[${i}]`).toBe(item.value)
      }
    }
  }
}

/** One random change by `peer`: through the views mostly, sometimes raw, as a hostile peer. */
function change(network: RandomNetwork, peer: Peer): void {
  const { root, array, doc } = peer
  const key = network.pick(KEYS)
  const n = Math.floor(network.next() * 100)
  const value = root.get(key)
  const roll = network.next()
  if (roll < 0.2) root.set(key, n)
  else if (roll < 0.28) root.set(key, { x: n, y: { z: n } })
  else if (roll < 0.36) root.set(key, [n, n + 1, n + 2])
  else if (roll < 0.44) root.delete(key)
  else if (roll < 0.5) root.update({ [key]: n, [network.pick(KEYS)]: `s${n}` })
  else if (roll < 0.6 && value instanceof SyncedDict) {
    if (network.next() < 0.7) value.set(network.pick(['x', 'y', 'w']), n)
    else value.delete('x')
  } else if (roll < 0.72 && value instanceof SyncedList) {
    const at = Math.floor(network.next() * (value.length + 1))
    const op = network.pick(['push', 'insert', 'delete', 'set', 'move', 'splice'])
    if (op === 'push') value.push(n)
    else if (op === 'insert') value.insert(at, n, { o: n })
    else if (value.length === 0) value.push(n)
    else {
      const i = Math.min(at, value.length - 1)
      if (op === 'delete') value.delete(i)
      else if (op === 'set') value.set(i, n)
      else if (op === 'move') value.move(i, Math.floor(network.next() * value.length))
      else value.splice(i, 2, n)
    }
  } else if (roll < 0.8) {
    // A raw entry anywhere in the root, written at the same time as an existing one (a tie)
    // or at another time; sometimes without a time at all.
    const entries = [...scanDict(array).entries.values()]
    const w = entries.length > 0 && network.next() < 0.5 ? network.pick(entries).writtenAt : Date.now() - 5 + n / 10
    const raw = network.next() < 0.2 ? { k: key, v: n } : { k: key, v: n, w }
    array.insert(Math.floor(network.next() * (array.length + 1)), [raw])
  } else if (roll < 0.85) {
    // Elements that are not entries (or not items, in a list).
    const junk = network.pick<unknown>([{ nope: 1 }, 7, 'str', [1, 2], { k: 5, v: 1 }])
    if (value instanceof SyncedList && network.next() < 0.5) {
      const items = scanDict(array).entries.get(key)!.value as Y.Array<unknown>
      items.insert(Math.floor(network.next() * (items.length + 1)), [{ not: 'an item' }])
    } else {
      array.insert(Math.floor(network.next() * (array.length + 1)), [junk])
    }
  } else if (roll < 0.9) {
    // A peer rewrites a nested entry's write-once wrapper: its key or its write time.
    const wrappers = array.toArray().filter((raw): raw is Y.Map<unknown> => raw instanceof Y.Map)
    if (wrappers.length > 0) {
      const wrapper = network.pick(wrappers)
      if (network.next() < 0.5) wrapper.set('k', key)
      else wrapper.set('w', decodeDictEntry(wrapper)!.writtenAt + (network.next() < 0.5 ? -1 : 1))
    }
  } else if (roll < 0.93) {
    doc.transact(() => {
      // Several writes in one transaction, reading in between.
      root.set(key, n)
      expect(root.get(key)).toBe(n)
      root.delete(network.pick(KEYS))
      expect(root.keys()).toEqual([...scanDict(array).entries.keys()])
      root.set(network.pick(KEYS), { x: n })
    })
  } else if (roll < 0.94) {
    root.clear()
  } else {
    root.set(key, `t${n}`)
  }
}

describe('indexes', { timeout: 60_000 }, () => {
  it('answer what a scan answers under random concurrent and hostile edits', () => {
    for (const seed of [1, 2, 3, 4]) {
      const network = new RandomNetwork(seed, 3)
      const peers: Peer[] = network.docs.map((doc) => ({ ...createViews(doc), cache: new SnapshotCache(doc) }))
      for (let step = 0; step < 200; step++) {
        change(network, network.pick(peers))
        network.step()
        peers.forEach((peer, i) => check(peer, `seed ${seed} step ${step} peer ${i}`))
      }
      network.flush()
      peers.forEach((peer, i) => check(peer, `seed ${seed} flushed, peer ${i}`))
      const [first, ...others] = peers.map((peer) => JSON.stringify(peer.cache.snapshot()))
      for (const other of others) expect(other).toBe(first)
    }
    expect(modelCounters.indexFailures).toBe(0)
  })

  it('follow undo and redo', () => {
    const peer: Peer = { ...createViews(), cache: new SnapshotCache(new Y.Doc()) }
    peer.cache = new SnapshotCache(peer.doc)
    const undo = new Y.UndoManager(peer.array, { captureTimeout: 0 })
    peer.root.set('a', 1).set('b', { x: [1, 2] }).set('a', 2)
    peer.root.delete('b')
    check(peer, 'before undo')
    undo.undo()
    expect(peer.root.get('b')).toBeInstanceOf(SyncedDict)
    check(peer, 'after one undo')
    undo.undo()
    expect(peer.root.get('a')).toBe(1)
    check(peer, 'after two undos')
    undo.redo()
    undo.redo()
    check(peer, 'after redos')
    expect(peer.root.toJSON()).toEqual({ a: 2 })
  })

  it('rebuild after a large remote change, then follow small ones', () => {
    const writer = createViews()
    const reader: Peer = { ...createViews(), cache: new SnapshotCache(new Y.Doc()) }
    reader.cache = new SnapshotCache(reader.doc)
    reader.root.set('mine', 1)
    check(reader, 'alone')
    writer.root.update(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])))
    Y.applyUpdate(reader.doc, Y.encodeStateAsUpdate(writer.doc))
    check(reader, 'after the large update')
    expect(reader.root.size).toBe(501)
    writer.doc.on('update', (update: Uint8Array) => Y.applyUpdate(reader.doc, update))
    writer.root.set('k3', 'x').delete('k4')
    check(reader, 'after small updates')
    expect(reader.root.get('k3')).toBe('x')
  })
})
