/**
 * `writeOncePerTurn` against a real redis-server (issue 12, "Relay hot path"): the commands
 * of all memories issued in one event-loop turn leave in one socket write, and each still
 * gets its own reply: one memory's refused append neither holds back nor loses another's.
 */
import type { Socket } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../../../../../test/redisServer.ts'
import { redisProxy } from '../../../../../test/redisProxy.ts'
import { countSocketWrites } from '../../../../../test/socketWrites.ts'
import { RedisStore } from '../RedisStore.ts'
import { EpochChangedError } from '../Store.ts'
import { writeOncePerTurn } from '../writesPerTurn.ts'

let redis: RedisServer
const cleanups: Array<() => unknown> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
afterAll(async () => {
  await redis.stop()
})

/** Counts the writes of `connection`'s current socket. */
const countWrites = (connection: Redis): (() => number) => countSocketWrites((connection as unknown as { stream: Socket }).stream)

async function openStore(url = redis.url): Promise<{ store: RedisStore; connection: Redis }> {
  const store = await RedisStore.connect({ redis: url, prefix: `t${Math.random().toString(36).slice(2)}:` })
  cleanups.push(() => store.close())
  return { store, connection: (store as unknown as { redis: Redis }).redis }
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

it('sends the appends of several memories made in one turn in one socket write', async () => {
  const { store, connection } = await openStore()
  const writes = countWrites(connection)
  const names = ['a', 'b', 'c', 'd', 'e']
  const results = await Promise.all(names.map((name, i) => store.append(name, [bytes(i, 1, 2)], 'relay1', 0)))
  expect(writes()).toBe(1)
  for (const [i, name] of names.entries()) {
    const stored = await store.load(name)
    expect(stored.entries.map((entry) => [entry.id, [...entry.update]])).toEqual([[results[i]!.ids[0], [i, 1, 2]]])
  }
})

it('rejects a refused append alone: the other memories of the same write are persisted', async () => {
  const { store, connection } = await openStore()
  const writes = countWrites(connection)
  const [refused, taken] = await Promise.allSettled([
    store.append('stale', [bytes(9)], 'relay1', 3),
    store.append('fresh', [bytes(7)], 'relay1', 0),
  ])
  expect(writes()).toBe(1)
  expect(refused.status === 'rejected' && refused.reason).toBeInstanceOf(EpochChangedError)
  expect(taken.status).toBe('fulfilled')
  expect((await store.load('stale')).entries).toEqual([])
  expect((await store.load('fresh')).entries.map((entry) => [...entry.update])).toEqual([[7]])
})

it('keeps replies in order for transactions, pipelines and plain commands of one turn', async () => {
  const connection = writeOncePerTurn(new Redis(redis.url))
  cleanups.push(() => connection.disconnect())
  await connection.ping()
  const writes = countWrites(connection)
  const key = `order:${Math.random()}`
  const [multi, pipeline, plain, get] = await Promise.all([
    connection.multi().set(key, '1').incr(key).exec(),
    connection.pipeline().incr(key).get(key).exec(),
    connection.incr(key),
    connection.get(key),
  ])
  expect(writes()).toBe(1)
  expect(multi).toEqual([[null, 'OK'], [null, 2]])
  expect(pipeline).toEqual([[null, 3], [null, '3']])
  expect(plain).toBe(4)
  expect(get).toBe('4')
})

it('corks the new socket after a reconnect, and commands still get their replies', async () => {
  const proxy = await redisProxy(Number(new URL(redis.url).port), 'never-swallowed')
  cleanups.push(() => proxy.close())
  const { store, connection } = await openStore(proxy.url)
  await store.append('before', [bytes(1)], 'relay1', 0)
  proxy.cutAll()
  await new Promise<void>((resolve) => connection.once('ready', () => resolve()))
  const writes = countWrites(connection)
  await Promise.all([store.append('after1', [bytes(2)], 'relay1', 0), store.append('after2', [bytes(3)], 'relay1', 0)])
  expect(writes()).toBe(1)
  expect((await store.load('after2')).entries.map((entry) => [...entry.update])).toEqual([[3]])
})
