/**
 * Clients and relays on a real redis-server: convergence of every operation, acks that
 * mean persisted, several relays acting as one, and recovery of a missed broadcast.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore, type Store } from '@remem/server'
import { type SyncedDict, SyncedList } from '@remem/client'
import { connect, dropFirstBroadcast, eventually, readMemoryFromRedis, sleep, startRelay, wrapStore } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let redis: RedisServer
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayOnRedis(options: { store?: Store } = {}) {
  const relay = await startRelay({ redis: redis.url, ...options })
  cleanups.push(() => relay.close())
  return relay
}

function client(url: string) {
  const c = connect(url)
  cleanups.push(() => c.close())
  return c
}

describe('two clients on one relay on Redis', () => {
  it('converge on set, delete, clear, push, insert, move and nested edits', async () => {
    const relay = await relayOnRedis()
    const a = client(relay.url).memory('ops')
    const b = client(relay.url).memory('ops')
    a.set('cpu', 0.5)
    a.set('gone', true)
    a.set('todos', [{ text: 'a', done: false }])
    a.set('form', { name: 'x', address: { city: 'Oslo' } })
    await eventually(() => expect(b.get('todos')).toBeInstanceOf(SyncedList))
    const todos = b.get('todos') as SyncedList
    todos.push({ text: 'b', done: false })
    todos.insert(0, { text: 'first', done: true })
    todos.move(0, 2)
    a.delete('gone')
    ;(b.get('form') as SyncedDict).set('name', 'y')
    ;((a.get('form') as SyncedDict).get('address') as SyncedDict).set('zip', '0150')
    const expected = {
      cpu: 0.5,
      todos: [
        { text: 'a', done: false },
        { text: 'b', done: false },
        { text: 'first', done: true },
      ],
      form: { name: 'y', address: { city: 'Oslo', zip: '0150' } },
    }
    await eventually(() => {
      expect(a.toJSON()).toEqual(expected)
      expect(b.toJSON()).toEqual(expected)
    })
    ;(a.get('todos') as SyncedList).delete(1, 1)
    ;(b.get('form') as SyncedDict).clear()
    await eventually(() => {
      expect(b.toJSON()).toEqual(a.toJSON())
      expect(a.toJSON()).toMatchObject({ todos: [{ text: 'a' }, { text: 'first' }], form: {} })
    })
    a.clear()
    await eventually(() => expect(b.toJSON()).toEqual({}))
    await Promise.all([a.whenSynced(), b.whenSynced()])
    expect((await readMemoryFromRedis(redis.url, 'ops')).json).toEqual({})
  })

  it('whenSynced resolves only once the update is in Redis, and pending is 0 then', async () => {
    // A store whose appends take 300 ms, so an early resolve would be seen.
    const inner = await RedisStore.connect({ redis: redis.url })
    cleanups.push(() => inner.close())
    const slow = wrapStore(inner, {
      append: async (...args: Parameters<Store['append']>) => {
        await sleep(300)
        return inner.append(...args)
      },
    })
    const relay = await relayOnRedis({ store: slow })
    const mem = client(relay.url).memory('acks')
    mem.set('answer', 42)
    let synced = false
    const done = mem.whenSynced().then(() => (synced = true))
    expect(mem.status.pending).toBe(1)
    await sleep(150)
    expect(synced).toBe(false)
    expect((await readMemoryFromRedis(redis.url, 'acks')).json).toEqual({})
    await done
    expect(mem.status.pending).toBe(0)
    expect((await readMemoryFromRedis(redis.url, 'acks')).json).toEqual({ answer: 42 })
  })
})

describe('two relays on one Redis', () => {
  it('converge, a client on each', async () => {
    const [r1, r2] = [await relayOnRedis(), await relayOnRedis()]
    const a = client(r1.url).memory('shared')
    const b = client(r2.url).memory('shared')
    a.set('from', 'a')
    b.set('list', [1, 2])
    await eventually(() => {
      expect(a.toJSON()).toEqual({ from: 'a', list: [1, 2] })
      expect(b.toJSON()).toEqual({ from: 'a', list: [1, 2] })
    })
    ;(a.get('list') as SyncedList).push(3)
    ;(b.get('list') as SyncedList).unshift(0)
    await eventually(() => {
      expect(a.toJSON()).toEqual(b.toJSON())
      expect((a.get('list') as SyncedList).toJSON()).toEqual([0, 1, 2, 3])
    })
  })

  it('recovers a dropped pub/sub message from the log', async () => {
    const inner = await RedisStore.connect({ redis: redis.url })
    cleanups.push(() => inner.close())
    // Relay 2's store loses the first broadcast it would deliver for this memory.
    const { store: lossy, dropped } = dropFirstBroadcast(inner)
    const r1 = await relayOnRedis()
    const r2 = await relayOnRedis({ store: lossy })
    const a = client(r1.url).memory('lossy')
    const b = client(r2.url).memory('lossy')
    await eventually(() => b.status.connection === 'online' && a.status.connection === 'online')
    a.set('first', 1)
    await a.whenSynced()
    await sleep(100)
    expect(dropped()).toBe(1)
    expect(b.has('first')).toBe(false)
    a.set('second', 2)
    await eventually(() => expect(b.toJSON()).toEqual({ first: 1, second: 2 }))
  })
})
