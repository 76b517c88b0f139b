/**
 * Refusals a client recovers from without reconnecting (issue 9): a handshake diff larger than
 * the relay's `maxUpdateBytes` although each change is small (many offline changes), and
 * `memoryTooLarge` once the memory has room again. Real relay, real Redis.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RefusedError } from '@remem/client'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { freePort } from './relayProcess.ts'

let redis: RedisServer
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A client whose relay is not up yet, with memory `name` holding `count` changes of ~500 bytes each. */
async function offlineChanges(name: string, count: number) {
  const port = await freePort()
  const c = connect(`ws://127.0.0.1:${port}`, { storage: 'memory', tabs: false })
  cleanups.push(() => c.close())
  const mem = c.memory(name)
  const value = (i: number): string => `${i}:`.padEnd(500, String.fromCharCode(97 + (i % 26)))
  for (let i = 0; i < count; i++) mem.set(`k${i}`, value(i))
  expect(mem.status.pending).toBe(count)
  return { port, c, mem, value }
}

it('3,000 offline changes of ~500 bytes (over 1 MiB together) all reach Redis after reconnecting', async () => {
  const count = 3_000
  const { port, c, mem, value } = await offlineChanges('offline-bulk', count)
  expect(Y.encodeStateAsUpdate(mem.doc).byteLength).toBeGreaterThan(1024 * 1024)

  const relay = await startRelay({ port, redis: redis.url })
  cleanups.push(() => relay.close())
  await eventually(() => expect(mem.status.pending).toBe(0), { timeoutMs: 30_000 })
  expect(c.errors).toEqual([])
  const stored = (await readMemoryFromRedis(redis.url, 'offline-bulk')).json
  expect(Object.keys(stored)).toHaveLength(count)
  for (const i of [0, 1_499, count - 1]) expect(stored[`k${i}`]).toBe(value(i))
})

it('after memoryTooLarge the client reports it once and retries until the memory has room again', async () => {
  const limit = 16 * 1024
  const relay = await startRelay({ redis: redis.url, maxMemoryBytes: limit })
  cleanups.push(() => relay.close())
  const c = connect(relay.url, { storage: 'memory', tabs: false })
  cleanups.push(() => c.close())
  const mem = c.memory('too-large')
  let written = 0
  for (; written < 40 && c.errors.length === 0; written++) {
    mem.set(`k${written}`, 'x'.repeat(1000))
    await eventually(() => mem.status.pending === 0 || c.errors.length > 0)
  }
  expect(c.errors).toHaveLength(1)
  expect(c.errors[0]).toBeInstanceOf(RefusedError)
  expect(c.errors[0]).toMatchObject({ reason: 'memoryTooLarge' })
  expect(c.errors[0]!.message).toMatch(/maxMemoryBytes/)
  expect(mem.status.pending).toBeGreaterThan(0)

  // Make room: the deletions pass, and the refused change is retried without a reconnect.
  for (let i = 0; i < 8; i++) mem.delete(`k${i}`)
  await sleep(1_100) // the relay measures the memory again at most once a second
  await eventually(() => expect(mem.status.pending).toBe(0), { timeoutMs: 30_000 })
  expect(c.errors).toHaveLength(1)
  const stored = (await readMemoryFromRedis(redis.url, 'too-large')).json
  expect(stored).toHaveProperty(`k${written - 1}`)
  expect(stored).not.toHaveProperty('k0')
})

it('a relay with a lower maxUpdateBytes: the client sends smaller parts until they pass, without reporting errors', async () => {
  const { port, c, mem } = await offlineChanges('offline-lower-limit', 600)
  expect(Y.encodeStateAsUpdate(mem.doc).byteLength).toBeGreaterThan(300 * 1024)

  const relay = await startRelay({ port, redis: redis.url, maxUpdateBytes: 64 * 1024 })
  cleanups.push(() => relay.close())
  await eventually(() => expect(mem.status.pending).toBe(0), { timeoutMs: 30_000 })
  expect(c.errors.map((e) => e.message)).toEqual([])
  expect(Object.keys((await readMemoryFromRedis(redis.url, 'offline-lower-limit')).json)).toHaveLength(600)
})
