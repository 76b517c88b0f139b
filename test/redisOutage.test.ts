/**
 * Redis down for ten seconds under two editing clients of one relay: the relay keeps
 * fanning out between them, withholds acknowledgements (pending grows), and once Redis is
 * back persists everything and acknowledges it (pending returns to 0, Redis holds every edit).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SyncedList } from '@remem/client'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const OUTAGE_MS = 10_000

describe('Redis outage', () => {
  it('two clients keep seeing each other live, pending grows, and everything is persisted afterwards', async () => {
    const redis: RedisServer = await startRedis({ persist: true })
    cleanups.push(() => redis.stop())
    const relay = await startRelay({ redis: redis.url })
    cleanups.push(() => relay.close())
    const clientA = connect(relay.url, { storage: 'memory' })
    const clientB = connect(relay.url, { storage: 'memory' })
    cleanups.push(
      () => clientA.close(),
      () => clientB.close(),
    )
    const a = clientA.memory('outage')
    const b = clientB.memory('outage')
    a.set('log', [])
    a.set('counter', 0)
    await a.whenSynced()
    await eventually(() => expect(b.toJSON()).toEqual({ log: [], counter: 0 }))

    redis.kill()
    const started = Date.now()
    let round = 0
    const lagsMs: number[] = []
    while (Date.now() - started < OUTAGE_MS) {
      round++
      const sentAt = Date.now()
      a.set(`a${round}`, round)
      ;(b.get('log') as SyncedList).push(`b${round}`)
      // Each sees the other's edit live, through the relay, while Redis is down.
      await eventually(() => expect(b.get(`a${round}`)).toBe(round), { timeoutMs: 2000 })
      await eventually(() => expect((a.get('log') as SyncedList).toJSON()).toContain(`b${round}`), {
        timeoutMs: 2000,
      })
      lagsMs.push(Date.now() - sentAt)
      // Nothing is acknowledged while Redis is down: every edit stays pending.
      expect(a.status.pending).toBe(round)
      expect(b.status.pending).toBe(round)
      await sleep(250)
    }
    expect(round).toBeGreaterThan(10)
    expect(a.status.connection).toBe('online')

    await redis.restart()
    await Promise.all([a.whenSynced(), b.whenSynced()])
    expect([a.status.pending, b.status.pending]).toEqual([0, 0])

    const expected: Record<string, unknown> = {
      counter: 0,
      log: Array.from({ length: round }, (_, i) => `b${i + 1}`),
    }
    for (let i = 1; i <= round; i++) expected[`a${i}`] = i
    expect(a.toJSON()).toEqual(expected)
    expect(b.toJSON()).toEqual(expected)
    // Redis itself (snapshot + log, read with plain commands) holds every edit.
    expect((await readMemoryFromRedis(redis.url, 'outage')).json).toEqual(expected)
    expect(Math.max(...lagsMs)).toBeLessThan(2000)
  })
})
