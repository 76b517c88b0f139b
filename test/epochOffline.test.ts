/**
 * Epochs and IndexedDB (fake-indexeddb): changes made offline and stored (the client closed)
 * against an old epoch are carried over by their stored intent when a later client of the
 * same storage meets the new epoch; storage then holds the new epoch's document and no queue.
 * Changes a stopped tab left queued that the old epoch ended with are not carried over again.
 */
import 'fake-indexeddb/auto'
import { createServer } from 'node:net'
import { createStore, entries } from 'idb-keyval'
import { afterEach, describe, expect, it } from 'vitest'
import type { SyncedDict, SyncedList } from '@remem/client'
import { EmbeddedStore, type RelayHandle } from '@remem/server'
import { unwrap } from '../packages/client/src/offline/envelope.ts'
import { connect, eventually, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

describe('epochs and stored changes', () => {
  it('carries changes stored offline against an old epoch onto the new one, and stores the new epoch', async () => {
    const store = new EmbeddedStore()
    const main = await startRelay({ store, idleUnloadMs: 60_000 })
    cleanups.push(() => main.close())
    const port = await freePort()
    let side: RelayHandle | null = await startRelay({ store, port, idleUnloadMs: 60_000 })
    cleanups.push(async () => side?.close())
    const url = `ws://127.0.0.1:${port}`
    const name = `epoch-idb-${Date.now()}`

    const a = connect(main.url)
    cleanups.push(() => a.close())
    const ma = a.memory(name)
    ma.set('items', ['a', 'b', 'c'])
    ma.set('d', { x: 1 })
    await ma.whenSynced()

    const first = connect(url, { checkpointMs: 20 })
    const mb = first.memory(name)
    await eventually(() => expect(mb.toJSON()).toEqual(ma.toJSON()))
    await side.close()
    side = null
    await eventually(() => expect(mb.status.connection).not.toBe('online'))
    mb.set('offline', { n: 1 })
    ;(mb.get('d') as SyncedDict).set('y', 2)
    const items = mb.get('items') as SyncedList
    items.insert(1, 'a2')
    items.delete(3) // 'c'
    expect(mb.status.pending).toBe(4)
    await first.close()

    ma.set('online', true)
    await ma.whenSynced()
    const room = main.relay.rooms.get(name)!
    await room.whenCompacted()
    await room.compact(true)
    expect(room.epoch).toBe(1)

    side = await startRelay({ store, port, idleUnloadMs: 60_000 })
    const second = connect(url, { checkpointMs: 20 })
    cleanups.push(() => second.close())
    const again = second.memory(name)
    const expected = { items: ['a', 'a2', 'b'], d: { x: 1, y: 2 }, offline: { n: 1 }, online: true }
    await eventually(() => expect(again.toJSON()).toEqual(expected))
    await again.whenSynced()
    await eventually(() => expect(ma.toJSON()).toEqual(expected))
    expect(second.errors.filter((error) => error.name !== 'ConnectionError')).toEqual([])

    // Storage: the new epoch's document, and no queued change left once checkpointed.
    await second.close()
    const stored = (await entries(createStore('remem', 'memories'))).filter(
      ([key]) => Array.isArray(key) && key[0] === url && key[1] === name,
    )
    const docs = stored.filter(([key]) => (key as unknown[])[2] === 'doc')
    expect(docs).toHaveLength(1)
    expect(unwrap(docs[0]![1] as Uint8Array).epoch).toBe(1)
    expect(stored.filter(([key]) => (key as unknown[])[2] === 'q')).toEqual([])
  })

  it.each([1, 2])('does not carry over a queued change an old epoch ended with (a tab stopped before its checkpoint; %i epoch moves)', async (moves) => {
    const relay = await startRelay({ store: new EmbeddedStore(), idleUnloadMs: 60_000 })
    cleanups.push(() => relay.close())
    const name = `epoch-stopped-tab-${Date.now()}`
    // Tabs of one origin: one IndexedDB, each tab its own queue.
    const tab = { tabs: false, checkpointMs: 20 } as const

    // Tab B opens first (it loads an empty queue). Tab A adds an item, which is acknowledged,
    // and keeps it queued: its checkpoint would come only after a minute.
    const b = connect(relay.url, tab)
    cleanups.push(() => b.close())
    const mb = b.memory(name)
    mb.set('items', ['a'])
    await mb.whenSynced()
    const a = connect(relay.url, { ...tab, checkpointMs: 60_000 })
    cleanups.push(() => a.close())
    const ma = a.memory(name)
    await eventually(() => expect(ma.toJSON()).toEqual({ items: ['a'] }))
    ;(ma.get('items') as SyncedList).push('x')
    await ma.whenSynced()
    await eventually(() => expect(mb.toJSON()).toEqual({ items: ['a', 'x'] }))

    // A goes offline and stays there (as a tab that stopped, its change still queued in
    // epoch 0). B meets each new epoch and stores its document.
    a.inspector.setOffline(true)
    await eventually(() => expect(ma.status.connection).not.toBe('online'))
    const room = relay.relay.rooms.get(name)!
    const storedDocument = async (): Promise<Uint8Array | undefined> =>
      (await entries(createStore('remem', 'memories'))).find(
        ([key]) => Array.isArray(key) && key[1] === name && key[2] === 'doc',
      )?.[1] as Uint8Array | undefined
    for (let epoch = 1; epoch <= moves; epoch++) {
      await room.whenCompacted()
      await room.compact(true)
      expect(room.epoch).toBe(epoch)
      await eventually(async () => expect(unwrap((await storedDocument())!).epoch).toBe(epoch))
    }
    await b.close()

    // A new tab loads the newest document and A's queue: the list keeps one "x".
    const c = connect(relay.url, tab)
    cleanups.push(() => c.close())
    const mc = c.memory(name)
    await eventually(() => expect(mc.status.connection).toBe('online'))
    await mc.whenSynced()
    expect(mc.toJSON()).toEqual({ items: ['a', 'x'] })
    expect(c.errors.filter((error) => error.name !== 'ConnectionError')).toEqual([])
  })
})
