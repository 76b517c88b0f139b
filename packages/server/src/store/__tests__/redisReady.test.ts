/**
 * `whenReady` against a real redis-server: the memories a relay opens at once all wait for
 * the same connecting pub/sub connection, and must share one wait (Node warns past 10
 * listeners of one event, and each listener costs every later event).
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../../../../../test/redisServer.ts'
import { whenReady } from '../redisReady.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})

it('lets any number of callers wait for one connection with one set of listeners', async () => {
  const connection = new Redis(redis.url, { lazyConnect: true })
  try {
    const before = connection.listenerCount('close')
    const waits = Array.from({ length: 100 }, () => whenReady(connection))
    expect(connection.listenerCount('close') - before).toBe(1)
    expect(connection.listenerCount('ready')).toBe(1)
    await Promise.all(waits)
    expect(connection.status).toBe('ready')
    expect(connection.listenerCount('close')).toBe(before)
    await whenReady(connection)
  } finally {
    connection.disconnect()
  }
})

it('rejects every caller when the connection gives up, and a later wait starts afresh', async () => {
  const connection = new Redis(redis.url, { lazyConnect: true })
  const waits = Array.from({ length: 20 }, () => whenReady(connection))
  connection.disconnect()
  const results = await Promise.allSettled(waits)
  expect(results.map((result) => result.status)).toEqual(Array(20).fill('rejected'))
  expect(connection.listenerCount('close')).toBe(0)
  await expect(whenReady(connection)).rejects.toThrow('Connection is closed.')
})
