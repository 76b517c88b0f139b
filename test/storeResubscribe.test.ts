/**
 * The relay's pub/sub connection (RedisStore's subscriber: every memory's channel) leaves no
 * unhandled rejection when it drops during ioredis' automatic re-SUBSCRIBE after a reconnect:
 * the chaos suite (seed 28) saw a relay die of "MaxRetriesPerRequestError: Reached the max
 * retries per request limit" from that promise while Redis was being killed. A proxy cuts the
 * connections and holds the re-subscription, so the failure is deterministic.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RedisStore } from '../packages/server/src/store/RedisStore.ts'
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

it('the store subscriber leaves no unhandled rejection when it drops during the re-subscription', async () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const p = await redisProxy(server.port, 'subscribe')
  const store = await RedisStore.connect({ redis: p.url, keyspace: 'off' })
  try {
    await store.subscribe('resubscribe', () => undefined)
    p.holdSubscriptions()
    p.cutAll()
    // The subscriber is back and asked for its channel again; Redis never answers.
    await eventually(() => expect(p.swallowed()).toBeGreaterThan(0))
    // Redis goes away (the proxy stops listening): reconnects fail, and after the retries
    // allowed per request ioredis rejects the pending SUBSCRIBE.
    await p.close()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await store.close()
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled.map(String)).toEqual([])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await store.close()
    await p.close()
  }
})
