/**
 * Epochs (docs/DESIGN.md, "Epochs: a bounded document"): a relay rebuilds a memory as a
 * fresh document; clients move to it, and changes they made against the old epoch are
 * carried over by their intent, or reported.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedStore } from '@remem/server'
import { type Memory, SyncedList } from '@remem/client'
import { createServer } from 'node:net'
import WebSocket from 'ws'
import { connect, eventually, startRelay, wrapStore } from './helpers.ts'
import type { RelayHandle, Store } from '@remem/server'

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

/** A relay on a fixed port that can be stopped and started again on the same store: its clients go offline and back. */
async function switchableRelay(store: EmbeddedStore): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort()
  let relay: RelayHandle | null = null
  const start = async (): Promise<void> => {
    relay = await startRelay({ store, port, idleUnloadMs: 60_000 })
  }
  const stop = async (): Promise<void> => {
    await relay?.close()
    relay = null
  }
  await start()
  cleanups.push(stop)
  return { url: `ws://127.0.0.1:${port}`, stop, start }
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayWith(store = new EmbeddedStore()): Promise<RelayHandle> {
  const relay = await startRelay({ store, idleUnloadMs: 60_000 })
  cleanups.push(() => relay.close())
  return relay
}

/** Starts a new epoch of `name` on `relay` (the room must be loaded and idle). */
async function newEpoch(relay: RelayHandle, name: string): Promise<number> {
  const room = relay.relay.rooms.get(name)
  if (!room) throw new Error(`memory ${name} is not loaded`)
  await room.whenPersisted()
  await room.whenCompacted()
  const before = room.epoch
  await room.compact(true)
  expect(room.epoch).toBe(before + 1)
  return room.epoch
}

function client(relay: RelayHandle): ReturnType<typeof connect> {
  const c = connect(relay.url)
  cleanups.push(() => c.close())
  return c
}

const list = (memory: Memory, key: string): SyncedList => {
  const value = memory.get(key)
  if (!(value instanceof SyncedList)) throw new Error(`${key} is not a list`)
  return value
}

/**
 * A client's list insert is persisted but its ACK is lost with its relay; the memory moves two
 * epochs on; a relay on `returning(store)` takes the client back. The insert must settle, once.
 */
async function expectLostAckSettled(returning: (store: EmbeddedStore) => Store): Promise<void> {
  const store = new EmbeddedStore()
  const main = await relayWith(store)
  const port = await freePort()
  let holdNextAppend = false
  let persisted!: () => void
  const appendPersisted = new Promise<void>((resolve) => (persisted = resolve))
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  cleanups.push(async () => release())
  const holding = wrapStore(store, {
    // Persists, then holds the ACK back until the relay is closing: the ACK is lost.
    append: async (name, updates, relayId, epoch) => {
      const result = await store.append(name, updates, relayId, epoch)
      if (holdNextAppend) {
        holdNextAppend = false
        persisted()
        await gate
      }
      return result
    },
  })
  const side = await startRelay({ store: holding, port, idleUnloadMs: 60_000 })
  const sockets = new Set<WebSocket>()
  class DroppableSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      sockets.add(this)
    }
  }
  const b = connect(`ws://127.0.0.1:${port}`, { WebSocket: DroppableSocket as unknown as typeof WebSocket })
  cleanups.push(() => b.close())
  const ma = client(main).memory('e5')
  const mb = b.memory('e5')
  mb.set('items', ['a', 'b'])
  await mb.whenSynced()
  await eventually(() => expect(ma.toJSON()).toEqual({ items: ['a', 'b'] }))

  holdNextAppend = true
  list(mb, 'items').insert(1, 'x')
  await appendPersisted
  for (const socket of sockets) socket.terminate()
  const closing = side.close()
  await new Promise((resolve) => setTimeout(resolve, 50))
  release()
  await closing
  expect(mb.status.pending).toBe(1)

  await eventually(() => expect(ma.toJSON()).toEqual({ items: ['a', 'x', 'b'] }))
  await newEpoch(main, 'e5')
  ma.set('between', 1)
  await ma.whenSynced()
  await newEpoch(main, 'e5')

  const again = await startRelay({ store: returning(store), port, idleUnloadMs: 60_000 })
  cleanups.push(() => again.close())
  await eventually(() => expect(mb.status.pending).toBe(0))
  const expected = { items: ['a', 'x', 'b'], between: 1 }
  await eventually(() => expect(mb.toJSON()).toEqual(expected))
  const fresh = client(main).memory('e5')
  await eventually(() => expect(fresh.toJSON()).toEqual(expected))
  expect(ma.toJSON()).toEqual(expected)
  expect(b.errors.filter((error) => error.name !== 'ConnectionError')).toEqual([])
}

describe('epochs', () => {
  it('moves a client with nothing pending to the new epoch', async () => {
    const relay = await relayWith()
    const a = client(relay)
    const ma = a.memory('e1')
    for (let i = 0; i < 50; i++) ma.set(`k${i % 5}`, { v: i })
    ma.set('items', [1, 2, 3])
    await ma.whenSynced()
    await newEpoch(relay, 'e1')
    const json = ma.toJSON()
    ma.set('after', true)
    list(ma, 'items').push(4)
    await ma.whenSynced()
    const b = client(relay)
    const mb = b.memory('e1')
    await eventually(() => expect(mb.toJSON()).toEqual({ ...json, after: true, items: [1, 2, 3, 4] }))
    expect(a.errors).toEqual([])
  })

  it('carries pending changes of an offline client onto the new epoch', async () => {
    const store = new EmbeddedStore()
    const relay = await relayWith(store)
    const other = await switchableRelay(store)
    const a = client(relay)
    const b = connect(other.url)
    cleanups.push(() => b.close())
    const ma = a.memory('e2')
    ma.set('d', { x: 1, y: 2 })
    ma.set('items', ['a', 'b', 'c', 'd'])
    ma.set('gone', 1)
    await ma.whenSynced()
    const mb = b.memory('e2')
    await eventually(() => expect(mb.toJSON()).toEqual(ma.toJSON()))
    await other.stop()
    await eventually(() => expect(mb.status.connection).not.toBe('online'))
    mb.set('fromB', 'hello')
    ;(mb.get('d') as Memory).set('y', 3)
    mb.delete('gone')
    const items = list(mb, 'items')
    items.insert(1, 'a2')
    items.delete(3) // 'c'
    ma.set('fromA', 1)
    await ma.whenSynced()
    await newEpoch(relay, 'e2')
    await other.start()
    await eventually(() => expect(mb.status.pending).toBe(0))
    const expected = { d: { x: 1, y: 3 }, items: ['a', 'a2', 'b', 'd'], fromA: 1, fromB: 'hello' }
    await eventually(() => expect(ma.toJSON()).toEqual(expected))
    expect(mb.toJSON()).toEqual(expected)
    expect(b.errors.filter((error) => error.name !== 'ConnectionError')).toEqual([])
  })

  it('keeps the last value of a key set again and again across dropped sockets and new epochs', async () => {
    // Regression: a replayed set carries the replay time, and a later pending set of the same
    // key (older `w`) lost to it, so the memory went back to an older value everywhere.
    const sockets = new Set<WebSocket>()
    class DroppableSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        sockets.add(this)
        this.once('close', () => sockets.delete(this))
      }
    }
    const store = new EmbeddedStore()
    const switcher = await relayWith(store)
    const follower = await relayWith(store)
    const mw = client(switcher).memory('e3')
    const writer = connect(follower.url, { WebSocket: DroppableSocket as unknown as typeof WebSocket })
    cleanups.push(() => writer.close())
    const m = writer.memory('e3')
    m.set('k', 0)
    await m.whenSynced()
    await eventually(() => expect(mw.get('k')).toBe(0))
    let last = 0
    for (let round = 1; round <= 40; round++) {
      m.set('k', ++last)
      m.set('d', { a: last, b: { c: last } })
      if (round % 3 === 0) for (const socket of sockets) socket.terminate()
      m.set('k', ++last)
      if (round % 2 === 0) {
        const room = switcher.relay.rooms.get('e3')!
        await room.whenPersisted()
        await room.whenCompacted()
        await room.compact(true)
      }
      await new Promise((resolve) => setTimeout(resolve, round % 5))
    }
    const expected = { k: last, d: { a: last - 1, b: { c: last - 1 } } }
    await eventually(() => expect(m.status.pending).toBe(0), { timeoutMs: 20_000 })
    await eventually(() => expect(mw.toJSON()).toEqual(expected))
    expect(m.toJSON()).toEqual(expected)
    expect(switcher.relay.rooms.get('e3')!.epoch).toBeGreaterThan(10)
    expect(writer.errors.filter((error) => error.name !== 'ConnectionError')).toEqual([])
  })

  it('settles a change persisted but never acknowledged, however many epochs the client missed', async () => {
    // Regression: EPOCH carried only the vector of the epoch before the room's, so a client
    // two or more epochs behind replayed a persisted change and a list insert appeared twice.
    await expectLostAckSettled((store) => store)
  })

  it('waits for the vector while the store cannot give it, instead of having the client replay', async () => {
    // Regression (chaos seed 3003): a relay that could not read the vector from the store (Redis
    // down) sent EPOCH without it; the client replayed every pending change, persisted ones too,
    // and items removed since came back. The relay now asks the store again.
    let refused = 0
    await expectLostAckSettled((store) =>
      wrapStore(store, {
        endedVector: async (name, epoch) => {
          if (refused < 3) {
            refused++
            throw new Error('store unreachable')
          }
          return store.endedVector(name, epoch)
        },
      }),
    )
    expect(refused).toBe(3)
  })

  it('whenSynced waits for the change carrying a pending one onto the new epoch', async () => {
    // Regression: EPOCH replaced the pending changes by their carried-over copy and resolved
    // whenSynced at once, before the relay had that copy (a client closed then lost it).
    const store = new EmbeddedStore()
    const relay = await relayWith(store)
    const other = await switchableRelay(store)
    client(relay).memory('e4').set('seed', 1)
    const b = connect(other.url)
    cleanups.push(() => b.close())
    const mb = b.memory('e4')
    await eventually(() => expect(mb.get('seed')).toBe(1))
    await other.stop()
    await eventually(() => expect(mb.status.connection).not.toBe('online'))
    mb.set('k', 'offline')
    let pendingWhenSynced: number | null = null
    const synced = mb.whenSynced().then(() => (pendingWhenSynced = mb.status.pending))
    await newEpoch(relay, 'e4')
    await other.start()
    await synced
    expect(pendingWhenSynced).toBe(0)
    const fresh = client(relay).memory('e4')
    await eventually(() => expect(fresh.get('k')).toBe('offline'))
  })
})
