/**
 * A relay process killed with SIGKILL and started again: the memory reloads completely
 * from Redis, clients reconnect with jittered exponential backoff, and no edit is lost.
 * Also: SIGTERM is graceful (persists, acks, closes sockets with 1001).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SyncedList } from '@remem/client'
import { connect, eventually, readMemoryFromRedis, sleep } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { type RelayProcess, freePort, spawnRelay } from './relayProcess.ts'

let redis: RedisServer
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayProcess(port: number): Promise<RelayProcess> {
  const relay = await spawnRelay(['--port', String(port), '--redis', redis.url])
  cleanups.push(async () => {
    relay.child.kill('SIGKILL')
    await relay.exited
  })
  return relay
}

describe('relay process restart', () => {
  it('after SIGKILL, state reloads from Redis and clients reconnect with jittered backoff, losing nothing', async () => {
    const port = await freePort()
    const first = await relayProcess(port)
    const clients = [connect(first.url), connect(first.url)]
    cleanups.push(...clients.map((c) => () => c.close()))
    const [a, b] = clients.map((c) => c.memory('restart'))
    a!.set('log', [])
    await a!.whenSynced()
    await eventually(() => expect(b!.get('log')).toBeDefined())
    for (let i = 0; i < 20; i++) ((i % 2 ? a! : b!).get('log') as SyncedList).push(`before-${i}`)
    await Promise.all([a!.whenSynced(), b!.whenSynced()])

    first.child.kill('SIGKILL')
    await first.exited
    await eventually(() => a!.status.connection === 'offline' && b!.status.connection === 'offline')
    // Edits while the relay is gone stay pending.
    ;(a!.get('log') as SyncedList).push('offline-a')
    ;(b!.get('log') as SyncedList).push('offline-b')
    a!.set('note', 'written offline')
    expect(a!.status.pending).toBeGreaterThan(0)
    await sleep(400) // let a few reconnect attempts fail

    await relayProcess(port)
    await eventually(() => {
      expect(a!.status.connection).toBe('online')
      expect(b!.status.connection).toBe('online')
    })
    await Promise.all([a!.whenSynced(), b!.whenSynced()])
    await eventually(() => expect(a!.toJSON()).toEqual(b!.toJSON()))
    const log = (a!.get('log') as SyncedList).toJSON() as string[]
    expect(log).toHaveLength(22)
    expect(log).toEqual(expect.arrayContaining(['offline-a', 'offline-b', 'before-0', 'before-19']))
    expect(a!.status.pending).toBe(0)
    expect((await readMemoryFromRedis(redis.url, 'restart')).json).toEqual(a!.toJSON())

    // Reconnect delays: drawn at random below an exponentially growing ceiling.
    for (const client of clients) {
      const delays = client.connection.recentDelays
      expect(delays.length).toBeGreaterThanOrEqual(2)
      delays.forEach((delay, attempt) => expect(delay).toBeLessThanOrEqual(Math.min(200, 20 * 2 ** attempt)))
    }
    const all = clients.flatMap((c) => c.connection.recentDelays)
    expect(new Set(all).size).toBeGreaterThan(1)

    // A fresh client on the restarted relay loads the same state.
    const fresh = connect(`ws://127.0.0.1:${port}`)
    cleanups.push(() => fresh.close())
    const c = fresh.memory('restart')
    await eventually(() => expect(c.toJSON()).toEqual(a!.toJSON()))
  })

  it('SIGTERM persists and acknowledges queued edits, then closes sockets with 1001', async () => {
    const port = await freePort()
    const relay = await relayProcess(port)
    const client = connect(relay.url)
    cleanups.push(() => client.close())
    const mem = client.memory('graceful')
    await eventually(() => mem.status.connection === 'online')
    for (let i = 0; i < 200; i++) mem.set(`k${i % 10}`, i)
    const synced = mem.whenSynced()
    relay.child.kill('SIGTERM')
    await synced
    expect(await relay.exited).toBe(0)
    await eventually(() => expect(client.errors.some((e) => /\(1001\)/.test(e.message))).toBe(true))
    expect((await readMemoryFromRedis(redis.url, 'graceful')).json).toEqual(mem.toJSON())
  })
})
