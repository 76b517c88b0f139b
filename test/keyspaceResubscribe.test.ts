/**
 * The keyspace subscriber re-subscribes after a reconnect without leaving a promise nobody
 * handles: ioredis' automatic re-PSUBSCRIBE rejected with "Connection is closed" when the
 * connection closed again before Redis answered, an unhandled rejection that ends a Node 20
 * process (the relay). A proxy between the relay's connections and Redis cuts them and holds
 * the re-subscription, so the failure is deterministic.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisProjection } from '../packages/server/src/store/RedisProjection.ts'
import { eventually } from './helpers.ts'
import { redisProxy } from './redisProxy.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server.stop()
})

describe('keyspace subscriber reconnects', () => {
  it('leaves no unhandled rejection when the connection closes during the re-subscription', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const p = await redisProxy(server.port, 'psubscribe')
    const redis = new Redis(p.url, { retryStrategy: () => 20 })
    redis.on('error', () => undefined)
    try {
      const projection = new RedisProjection({ redis, prefix: 'memory:', keyspace: 'on' })
      const stop = await projection.watch(() => undefined)
      p.holdSubscriptions()
      p.cutAll()
      // The subscriber is back and asked for its subscription again; Redis never answers.
      await eventually(() => expect(p.swallowed()).toBeGreaterThan(0))
      // Closing now (a relay shutting down) ends the connection with the PSUBSCRIBE pending.
      await stop()
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled.map(String)).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
      redis.disconnect()
      await p.close()
    }
  })
  it('follows keyspace events again after its connection was cut twice in a row', async () => {
    const p = await redisProxy(server.port, 'psubscribe')
    const redis = new Redis(p.url, { retryStrategy: () => 20 })
    redis.on('error', () => undefined)
    const direct = new Redis(server.url)
    try {
      const projection = new RedisProjection({ redis, prefix: 'memory:', keyspace: 'on' })
      const keys: string[] = []
      let gaps = 0
      const stop = await projection.watch(
        (event) => keys.push(event.key),
        () => gaps++,
      )
      p.cutAll()
      await eventually(() => expect(gaps).toBe(1))
      p.cutAll()
      await eventually(() => expect(gaps).toBe(2))
      await eventually(async () => {
        await direct.set('memory:m:after', '1')
        expect(keys).toContain('after')
      })
      await stop()
    } finally {
      direct.disconnect()
      redis.disconnect()
      await p.close()
    }
  })
})
