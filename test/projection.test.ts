/**
 * Redis-native memories: every top-level key is a plain Redis key in the wrapped layout,
 * and writes any Redis client makes to those keys reach connected clients.
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SyncedDict } from '@remem/client'
import type { RelayOptions } from '@remem/server'
import { connect, eventually, sleep, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { wrappedText } from './projectionText.ts'

let server: RedisServer
let redis: Redis
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  server = await startRedis()
  redis = new Redis(server.url)
})
afterAll(async () => {
  redis.disconnect()
  await server.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relay(options: RelayOptions = {}) {
  const handle = await startRelay({ redis: server.url, ...options })
  cleanups.push(() => handle.close())
  return handle
}

function open(url: string, name: string) {
  const client = connect(url)
  cleanups.push(() => client.close())
  return client.memory(name)
}

const wrapped = wrappedText
const projected = async (key: string): Promise<unknown> => {
  const text = await redis.get(key)
  if (text === null) return undefined
  const parsed = JSON.parse(text) as { value: unknown; last_modified: unknown }
  expect(Object.keys(parsed).sort()).toEqual(['last_modified', 'value'])
  return parsed.value
}

describe('projection: client writes become plain keys', () => {
  it('writes the wrapped layout, nested values included, and deletes with the key', async () => {
    const r = await relay()
    const mem = open(r.url, 'proj1')
    mem.set('cpu', 0.5)
    mem.set('todos', [{ text: 'a', tags: ['x'] }])
    mem.set('name', 'Ada')
    await eventually(async () => {
      expect(await projected('memory:proj1:cpu')).toBe(0.5)
      expect(await projected('memory:proj1:todos')).toEqual([{ text: 'a', tags: ['x'] }])
      expect(await projected('memory:proj1:name')).toBe('Ada')
    })
    const text = (await redis.get('memory:proj1:cpu'))!
    // last_modified is nanoseconds since the epoch, an exact integer like Python's time_ns().
    expect(text).toMatch(/^\{"value":0\.5,"last_modified":\d{19}\}$/)
    const ns = BigInt(/"last_modified":(\d+)/.exec(text)![1]!)
    expect(Number(ns / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000)
    mem.delete('cpu')
    await eventually(async () => expect(await redis.exists('memory:proj1:cpu')).toBe(0))
    const keys = (await redis.keys('memory:proj1:*')).sort()
    expect(keys).toEqual(['memory:proj1:name', 'memory:proj1:todos'])
  })

  it('coalesces a burst on one key into few writes, ending at the last value', async () => {
    const r = await relay()
    const mem = open(r.url, 'burst')
    for (let i = 0; i <= 500; i++) mem.set('n', i)
    await mem.whenSynced()
    await eventually(async () => expect(await projected('memory:burst:n')).toBe(500))
    expect(r.relay.stats.projected).toBeLessThan(50)
  })
})

describe('ingest: plain Redis commands reach clients', () => {
  it('SET wrapped, bare JSON and non-JSON text; hashes and lists; DEL and UNLINK', async () => {
    const r = await relay()
    const mem = open(r.url, 'cmds')
    await eventually(() => mem.status.connection === 'online')
    await redis.set('memory:cmds:wrapped', wrapped({ a: 1, b: [true, null] }))
    await eventually(() => expect(mem.toJSON().wrapped).toEqual({ a: 1, b: [true, null] }))
    await redis.set('memory:cmds:bare', '{"x": [1, 2]}')
    await eventually(() => expect(mem.toJSON().bare).toEqual({ x: [1, 2] }))
    await redis.set('memory:cmds:text', 'hello world')
    await eventually(() => expect(mem.get('text')).toBe('hello world'))
    // Bare values are rewritten in the wrapped layout, so redis-memory readers keep working.
    await eventually(async () => expect(await projected('memory:cmds:bare')).toEqual({ x: [1, 2] }))
    await redis.hset('memory:cmds:hash', { f: '1', g: 'text' })
    await eventually(() => expect(mem.toJSON().hash).toEqual({ f: 1, g: 'text' }))
    await redis.rpush('memory:cmds:list', 'a', '2')
    await eventually(() => expect(mem.toJSON().list).toEqual(['a', 2]))
    await redis.del('memory:cmds:wrapped')
    await eventually(() => expect(mem.has('wrapped')).toBe(false))
    await redis.unlink('memory:cmds:bare')
    await eventually(() => expect(mem.has('bare')).toBe(false))
  })

  it('RENAME (both sides), EXPIRE and expiry, and other commands that replace a value', async () => {
    const r = await relay()
    const mem = open(r.url, 'cmds2')
    await eventually(() => mem.status.connection === 'online')
    await redis.set('memory:cmds2:old', wrapped('moved'))
    await eventually(() => expect(mem.get('old')).toBe('moved'))
    await redis.rename('memory:cmds2:old', 'memory:cmds2:new')
    await eventually(() => expect(mem.toJSON()).toEqual({ new: 'moved' }))
    await redis.set('memory:cmds2:counter', '1')
    await redis.incr('memory:cmds2:counter')
    await eventually(() => expect(mem.get('counter')).toBe(2))
    await redis.set('memory:cmds2:s', 'ab')
    await redis.append('memory:cmds2:s', 'c')
    await eventually(() => expect(mem.get('s')).toBe('abc'))
    await redis.mset('memory:cmds2:m1', '1', 'memory:cmds2:m2', wrapped('two'))
    await eventually(() => expect(mem.toJSON()).toMatchObject({ m1: 1, m2: 'two' }))
    await redis.copy('memory:cmds2:m2', 'memory:cmds2:m3')
    await eventually(() => expect(mem.get('m3')).toBe('two'))
    await redis.getdel('memory:cmds2:m1')
    await eventually(() => expect(mem.has('m1')).toBe(false))
    await redis.pexpire('memory:cmds2:m3', 150)
    await eventually(() => expect(mem.has('m3')).toBe(false))
  })

  it('skips keys of types it does not map, and keeps working', async () => {
    const r = await relay()
    const mem = open(r.url, 'types')
    await eventually(() => mem.status.connection === 'online')
    await redis.sadd('memory:types:set', 'a')
    await redis.zadd('memory:types:zset', 1, 'a')
    await redis.set('memory:types:ok', '1')
    await eventually(() => expect(mem.get('ok')).toBe(1))
    expect(mem.has('set')).toBe(false)
    expect(mem.has('zset')).toBe(false)
  })

  it('a client edit of field a and an external SET of field b of one dict both survive', async () => {
    const r = await relay()
    const a = open(r.url, 'merge')
    const b = open(r.url, 'merge')
    a.set('profile', { a: 1, b: 1, c: 1 })
    await eventually(async () => expect(await projected('memory:merge:profile')).toEqual({ a: 1, b: 1, c: 1 }))
    // Both sides write from the same base at the same time.
    ;(a.get('profile') as SyncedDict).set('a', 2)
    await redis.set('memory:merge:profile', wrapped({ a: 1, b: 2, c: 1 }))
    const expected = { a: 2, b: 2, c: 1 }
    await eventually(async () => {
      expect(a.toJSON().profile).toEqual(expected)
      expect(b.toJSON().profile).toEqual(expected)
      expect(await projected('memory:merge:profile')).toEqual(expected)
    })
  })

  it('several relays that see one notification apply it once; own writes are never ingested', async () => {
    const [r1, r2] = [await relay(), await relay()]
    const a = open(r1.url, 'twice')
    const b = open(r2.url, 'twice')
    a.set('list', [1])
    await eventually(() => expect(b.toJSON()).toEqual({ list: [1] }))
    await eventually(async () => expect(await projected('memory:twice:list')).toEqual([1]))
    const ingestsBefore = r1.relay.stats.ingests + r2.relay.stats.ingests
    await redis.set('memory:twice:list', wrapped([1, 2]))
    await eventually(() => {
      expect(a.toJSON()).toEqual({ list: [1, 2] })
      expect(b.toJSON()).toEqual({ list: [1, 2] })
    })
    await sleep(200)
    expect(a.toJSON()).toEqual({ list: [1, 2] })
    expect(r1.relay.stats.ingests + r2.relay.stats.ingests - ingestsBefore).toBe(1)
  })

  it('10,000 client writes with two relays cause zero ingests of the relays’ own writes', async () => {
    const [r1, r2] = [await relay(), await relay()]
    const a = open(r1.url, 'own')
    const b = open(r2.url, 'own')
    for (let i = 0; i < 10_000; i++) {
      ;(i % 2 ? a : b).set(`k${i % 20}`, { i, at: i * 2 })
      if (i % 500 === 499) await sleep(5)
    }
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await eventually(async () => expect(await projected('memory:own:k19')).toEqual({ i: 9999, at: 19998 }))
    await eventually(() => expect(a.toJSON()).toEqual(b.toJSON()))
    await sleep(300)
    expect(r1.relay.stats.projected + r2.relay.stats.projected).toBeGreaterThan(0)
    expect(r1.relay.stats.ingests + r2.relay.stats.ingests).toBe(0)
  })
})

describe('reconcile', () => {
  it('a memory loaded for the first time shows writes made while no relay ran', async () => {
    await redis.set('memory:cold:greeting', wrapped('hi'))
    await redis.set('memory:cold:nested', '{"deep": {"er": [1]}}')
    const r = await relay()
    const mem = open(r.url, 'cold')
    await eventually(() => expect(mem.toJSON()).toEqual({ greeting: 'hi', nested: { deep: { er: [1] } } }))
  })

  it('external changes made while no relay held the memory are taken in when it loads again', async () => {
    const r = await relay({ idleUnloadMs: 50 })
    const client = connect(r.url)
    const mem = client.memory('away')
    mem.set('kept', 1)
    mem.set('dropped', 1)
    mem.set('changed', 1)
    await mem.whenSynced()
    await eventually(async () => expect(await projected('memory:away:changed')).toBe(1))
    await client.close()
    await eventually(() => expect(r.relay.rooms.has('away')).toBe(false))
    await redis.del('memory:away:dropped')
    await redis.set('memory:away:changed', wrapped(2))
    await redis.set('memory:away:added', wrapped(3))
    const again = open(r.url, 'away')
    await eventually(() => expect(again.toJSON()).toEqual({ kept: 1, changed: 2, added: 3 }))
  })

  it('notifications missed while the relay’s Redis connections were cut are reconciled', async () => {
    const r = await relay()
    const mem = open(r.url, 'cut')
    mem.set('x', 1)
    await mem.whenSynced()
    await eventually(async () => expect(await projected('memory:cut:x')).toBe(1))
    // Kill every pub/sub connection and write before the relay can resubscribe.
    await redis
      .multi()
      .client('KILL', 'TYPE', 'pubsub')
      .set('memory:cut:x', wrapped(2))
      .set('memory:cut:y', wrapped('new'))
      .exec()
    await eventually(() => expect(mem.toJSON()).toEqual({ x: 2, y: 'new' }), { timeoutMs: 15_000 })
  })
})

describe('expiry', () => {
  it('a key set with ttl disappears from every client after expiry, and Redis has the expiry', async () => {
    const r = await relay()
    const a = open(r.url, 'ttl')
    const b = open(r.url, 'ttl')
    a.set('session', { user: 'ada' }, { ttl: 600 })
    a.set('stays', true)
    await eventually(() => expect(b.toJSON()).toEqual({ session: { user: 'ada' }, stays: true }))
    await eventually(async () => expect(await redis.pttl('memory:ttl:session')).toBeGreaterThan(0))
    await eventually(() => {
      expect(a.toJSON()).toEqual({ stays: true })
      expect(b.toJSON()).toEqual({ stays: true })
    })
    expect(await redis.exists('memory:ttl:session')).toBe(0)
  })

  it('the embedded store expires keys the same way', async () => {
    const r = await startRelay()
    cleanups.push(() => r.close())
    const a = open(r.url, 'ttl')
    a.set('flash', 'soon gone', { ttl: 200 })
    await eventually(() => expect(a.has('flash')).toBe(true))
    await eventually(() => expect(a.has('flash')).toBe(false))
  })

  it('rejects a ttl that is not a positive number, changing nothing', async () => {
    const r = await relay()
    const mem = open(r.url, 'ttlbad')
    expect(() => mem.set('x', 1, { ttl: -5 })).toThrow(/positive number of milliseconds/)
    expect(mem.has('x')).toBe(false)
  })
})

describe('prefixes', () => {
  it('two relays with different prefixes on one Redis share nothing', async () => {
    const r1 = await relay({ prefix: 'memory:' })
    const r2 = await relay({ prefix: 'tenant2:' })
    const a = open(r1.url, 'iso')
    const b = open(r2.url, 'iso')
    a.set('who', 'a')
    b.set('who', 'b')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await eventually(async () => {
      expect(await projected('memory:iso:who')).toBe('a')
      expect(await projected('tenant2:iso:who')).toBe('b')
    })
    await redis.set('tenant2:iso:only2', wrapped(2))
    await eventually(() => expect(b.get('only2')).toBe(2))
    await sleep(100)
    expect(a.toJSON()).toEqual({ who: 'a' })
    expect(b.toJSON()).toEqual({ who: 'b', only2: 2 })
  })
})
