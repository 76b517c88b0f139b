/**
 * Epochs (docs/DESIGN.md, "Epochs: a bounded document"): a relay rebuilds a memory as a
 * fresh document; clients move to it, and changes they made against the old epoch are
 * carried over by their intent, or reported.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedStore } from '@remem/server'
import { type Memory, SyncedList } from '@remem/client'
import { createServer } from 'node:net'
import { connect, eventually, startRelay } from './helpers.ts'
import type { RelayHandle } from '@remem/server'

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
})
