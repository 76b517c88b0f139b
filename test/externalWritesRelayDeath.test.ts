/**
 * Issue 9, finding 4, with real processes: plain Redis writes keep coming until the relay
 * process holding the memory is stopped (SIGTERM) or killed (SIGKILL) in the middle of
 * ingesting them; the next relay ends with the last value Redis acknowledged for every key,
 * in the memory, in the log and in the plain key. (The deterministic cases, a shutdown's
 * last flush and a claim never persisted, are in externalWriteShutdown.test.ts.)
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { connect, eventually, readMemoryFromRedis, sleep } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { spawnRelay } from './relayProcess.ts'

let server: RedisServer
let redis: Redis
const cleanups: Array<() => Promise<unknown> | unknown> = []
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

const KEYS = 4

/** Writes `memory:<name>:k<j>` round-robin until `stop()`; `last` is what Redis acknowledged last. */
function externalWriter(name: string) {
  const last = new Map<string, number>()
  let running = true
  const done = (async () => {
    for (let i = 1; running; i++) {
      const key = `k${i % KEYS}`
      await redis.set(`memory:${name}:${key}`, JSON.stringify({ value: i, last_modified: 1 }))
      last.set(key, i)
      await sleep(2)
    }
  })()
  return {
    last,
    stop: async () => {
      running = false
      await done
    },
  }
}

it.each(['SIGTERM', 'SIGKILL'] as const)('no external write is lost when the relay gets %s mid-stream', async (signal) => {
  const name = `death-${signal}`
  const first = await spawnRelay(['--port', '0', '--redis', server.url, '--log-level', 'warn'])
  cleanups.push(() => first.child.kill('SIGKILL'))
  const watcher = connect(first.url)
  cleanups.push(() => watcher.close())
  const memory = watcher.memory(name)
  await eventually(() => memory.status.connection === 'online')
  const writer = externalWriter(name)
  // The relay ingests for a while, then dies in the middle of it: right after the last
  // writes, whose notifications it is handling (or about to).
  await eventually(() => memory.get('k1') !== undefined)
  await sleep(150)
  await writer.stop()
  first.child.kill(signal)
  await first.exited
  await watcher.close()

  const second = await spawnRelay(['--port', '0', '--redis', server.url, '--log-level', 'warn'])
  cleanups.push(() => second.child.kill('SIGKILL'))
  const reader = connect(second.url)
  cleanups.push(() => reader.close())
  const reopened = reader.memory(name)
  const expected = Object.fromEntries(writer.last)
  expect(Object.keys(expected)).toHaveLength(KEYS)
  // An ingest the killed relay claimed but never persisted is taken over once its lease
  // (10 s by default) lapses.
  await eventually(
    async () => {
      expect(reopened.toJSON()).toEqual(expected)
      expect((await readMemoryFromRedis(server.url, name)).json).toEqual(expected)
      for (const [key, value] of writer.last) {
        expect(JSON.parse((await redis.get(`memory:${name}:${key}`))!).value).toBe(value)
      }
    },
    { timeoutMs: 25_000, intervalMs: 100 },
  )
}, 60_000)
