/**
 * The appends of several memories in one turn go to Redis as one script call (AppendBatch),
 * and so do their projection writes (ProjectBatch), against a real redis-server; each still
 * settles on its own reply: one memory in another epoch, or with a key of the wrong type,
 * fails alone.
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../../../../../test/redisServer.ts'
import { RedisStore } from '../RedisStore.ts'
import { EpochChangedError } from '../Store.ts'

let redis: RedisServer
let plain: Redis
const cleanups: Array<() => unknown> = []
beforeAll(async () => {
  redis = await startRedis()
  plain = new Redis(redis.url)
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
afterAll(async () => {
  plain.disconnect()
  await redis.stop()
})

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

async function openStore(): Promise<{ store: RedisStore; prefix: string }> {
  const prefix = `b${Math.random().toString(36).slice(2)}:`
  const store = await RedisStore.connect({ redis: redis.url, prefix })
  cleanups.push(() => store.close())
  return { store, prefix }
}

/**
 * The script calls Redis runs from now on (MONITOR): EVALSHA and EVAL, with their key count.
 * `stop` resolves once every command Redis ran before it is listed (MONITOR lists commands in
 * the order Redis ran them, and lags behind their replies).
 */
async function scriptCalls(): Promise<{ calls: string[][]; stop: () => Promise<void> }> {
  const monitored = await new Redis(redis.url).monitor()
  cleanups.push(() => monitored.disconnect())
  const calls: string[][] = []
  const seen = new Set<string>()
  monitored.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && /^eval/i.test(args[0] ?? '')) calls.push(args.slice(0, 3).map(String))
    if (String(args[0]).toLowerCase() === 'echo') seen.add(String(args[1]))
  })
  const marker = async (token: string): Promise<void> => {
    await plain.echo(token)
    await expect.poll(() => seen.has(token)).toBe(true)
  }
  await marker('start')
  return { calls, stop: () => marker('stop') }
}

const entries = async (store: RedisStore, name: string): Promise<number[][]> =>
  (await store.load(name)).entries.map((entry) => [...entry.update])

it('sends the appends of several memories made in one turn as one script call', async () => {
  const { store } = await openStore()
  await store.append('warm', [bytes(0)], 'relay1', 0)
  const { calls, stop } = await scriptCalls()
  const names = ['a', 'b', 'c', 'd', 'e']
  const results = await Promise.all(names.map((name, i) => store.append(name, [bytes(i, 9)], 'relay1', 0)))
  await stop()
  expect(calls).toHaveLength(1)
  expect(calls[0]![2]).toBe('15')
  for (const [i, name] of names.entries()) {
    expect(await entries(store, name)).toEqual([[i, 9]])
    expect(results[i]!.ids).toHaveLength(1)
    expect(results[i]!.prevId).toBe('0-0')
    expect(results[i]!.logLength).toBe(1)
  }
  // One memory twice in one turn: appended in the order asked, the second after the first.
  const [first, second] = await Promise.all([store.append('a', [bytes(1)], 'relay1', 0), store.append('a', [bytes(2)], 'relay1', 0)])
  expect(second.prevId).toBe(first.ids[0])
  expect(await entries(store, 'a')).toEqual([[0, 9], [1], [2]])
})

it('fails one memory of a call alone: another epoch, or a key of the wrong type', async () => {
  const { store, prefix } = await openStore()
  await plain.set(`remem:{${prefix}broken}:log`, 'not a stream')
  const settled = await Promise.allSettled([
    store.append('before', [bytes(1)], 'relay1', 0),
    store.append('stale', [bytes(2)], 'relay1', 4),
    store.append('broken', [bytes(3)], 'relay1', 0),
    store.append('after', [bytes(4)], 'relay1', 0),
  ])
  expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
  expect(settled[1]!.status === 'rejected' && settled[1]!.reason).toBeInstanceOf(EpochChangedError)
  expect(settled[2]!.status === 'rejected' && String(settled[2]!.reason)).toMatch(/WRONGTYPE/)
  expect(await entries(store, 'before')).toEqual([[1]])
  expect(await entries(store, 'stale')).toEqual([])
  expect(await entries(store, 'after')).toEqual([[4]])
  expect(await plain.get(`remem:{${prefix}broken}:log`)).toBe('not a stream')
})

it('publishes each memory of a call to its own subscribers, in log order', async () => {
  const { store } = await openStore()
  const seen: string[] = []
  for (const name of ['x', 'y']) {
    const unsubscribe = await store.subscribe(name, (update) => seen.push(`${name} ${update.prevId} ${[...update.update]}`))
    cleanups.push(unsubscribe)
  }
  const [x, y] = await Promise.all([store.append('x', [bytes(7)], 'relay1', 0), store.append('y', [bytes(8)], 'relay1', 0)])
  const [x2] = await Promise.all([store.append('x', [bytes(9)], 'relay1', 0)])
  await expect.poll(() => seen.length).toBe(3)
  expect(seen.sort()).toEqual([`x 0-0 7`, `x ${x.ids[0]} 9`, `y 0-0 8`].sort())
  expect(x2.prevId).toBe(x.ids[0])
  expect(y.logLength).toBe(1)
})

it('sends the projection writes of several memories made in one turn as one script call, failing one alone', async () => {
  const { store, prefix } = await openStore()
  await plain.set(`remem:{${prefix}broken}:proj`, 'not a hash')
  const { calls, stop } = await scriptCalls()
  const settled = await Promise.allSettled([
    store.projection.write('p1', [{ key: 'a', value: 1 }, { key: 'b', value: 'two' }]),
    store.projection.write('broken', [{ key: 'a', value: 3 }]),
    store.projection.write('p2', [{ key: 'a', value: undefined }, { key: 'c', value: [4] }]),
  ])
  await stop()
  expect(calls).toHaveLength(1)
  expect(calls[0]![2]).toBe('10')
  expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect(settled[1]!.status === 'rejected' && String(settled[1]!.reason)).toMatch(/WRONGTYPE/)
  expect(settled[0]!.status === 'fulfilled' && settled[0]!.value).toEqual({ written: 2, conflicts: [], waiting: [] })
  expect(settled[2]!.status === 'fulfilled' && settled[2]!.value).toEqual({ written: 1, conflicts: [], waiting: [] })
  expect(JSON.parse((await plain.get(`${prefix}p1:b`))!).value).toBe('two')
  expect(JSON.parse((await plain.get(`${prefix}p2:c`))!).value).toEqual([4])
  expect(await plain.exists(`${prefix}broken:a`)).toBe(0)
})
