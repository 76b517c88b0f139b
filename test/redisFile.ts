/** What most Redis test files set up: one redis-server, a plain client of it, and cleanups per test. */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type RedisServer, startRedis } from './redisServer.ts'

export interface RedisFile {
  /** Started before the file's tests, stopped after them. */
  server: RedisServer
  /** A plain client of `server`, as any other Redis client would write. */
  redis: Redis
  /** Run after each test, newest first; their errors are ignored (the test's result stands). */
  cleanups: Array<() => Promise<unknown>>
}

/** Registers the hooks of a Redis test file; use the fields inside tests. */
export function useRedisFile(): RedisFile {
  const file = { cleanups: [] } as unknown as RedisFile
  beforeAll(async () => {
    file.server = await startRedis()
    file.redis = new Redis(file.server.url)
  })
  afterAll(async () => {
    file.redis.disconnect()
    await file.server.stop()
  })
  afterEach(async () => {
    for (const cleanup of file.cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  })
  return file
}
