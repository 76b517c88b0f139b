/**
 * The keyspace subscriber re-subscribes after a reconnect without leaving a promise nobody
 * handles: ioredis' automatic re-PSUBSCRIBE rejected with "Connection is closed" when the
 * connection closed again before Redis answered, an unhandled rejection that ends a Node 20
 * process (the relay). A proxy between the relay's connections and Redis cuts them and holds
 * the re-subscription, so the failure is deterministic.
 */
import { type Server, type Socket, createConnection, createServer } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisProjection } from '../packages/server/src/store/RedisProjection.ts'
import { eventually } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server.stop()
})

/** A TCP proxy to Redis that can cut every connection and swallow PSUBSCRIBE commands. */
async function proxy(port: number) {
  const sockets = new Set<Socket>()
  let swallow = false
  let swallowed = 0
  const listener: Server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' })
    sockets.add(client).add(upstream)
    client.on('data', (data: Buffer) => {
      if (swallow && data.toString('latin1').toLowerCase().includes('psubscribe')) swallowed++
      else upstream.write(data)
    })
    upstream.on('data', (data: Buffer) => client.write(data))
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const address = listener.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    url: `redis://127.0.0.1:${address.port}`,
    /** From now on PSUBSCRIBE never reaches Redis (so it is never answered). */
    holdSubscriptions: () => {
      swallow = true
    },
    swallowed: () => swallowed,
    cutAll: () => {
      for (const socket of sockets) socket.destroy()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => listener.close(resolve))
    },
  }
}

describe('keyspace subscriber reconnects', () => {
  it('leaves no unhandled rejection when the connection closes during the re-subscription', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    const p = await proxy(server.port)
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
    const p = await proxy(server.port)
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
