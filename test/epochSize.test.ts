/**
 * Issue 11, bounded size: each size workload, at 100,000 operations, ends with the memory's
 * document within 2 × its JSON size + 8 KiB, on the embedded store and on Redis: in the
 * relay's room (what a new client downloads) and as stored (snapshot plus log, read back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddedStore, RedisStore, type Store } from '@remem/server'
import { startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { WORKLOADS, boundOf, runWorkload } from './sizeWorkloads.ts'

/** 100,000 as the issue asks; EPOCH_OPS=… for a quicker local run. */
const OPS = Number(process.env.EPOCH_OPS ?? 100_000)

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

const stores: Array<{ kind: string; open: () => Store }> = [
  { kind: 'embedded', open: () => new EmbeddedStore() },
  { kind: 'redis', open: () => new RedisStore({ redis: redis.url }) },
]

describe.each(stores)('bounded size on the $kind store', ({ open }) => {
  it.each(WORKLOADS.map((workload, index) => ({ workload, index })))(
    '$workload.name',
    { timeout: 900_000 },
    async ({ workload, index }) => {
      const store = open()
      const relay = await startRelay({ store, idleUnloadMs: 600_000, epochs: true })
      try {
        const room = await relay.relay.openRoom(`size-${index}`)
        const result = await runWorkload(room, workload, OPS)
        expect(result.refusals).toEqual([])
        expect(result.encodedBytes).toBeLessThanOrEqual(boundOf(result.jsonBytes))
        await room.whenPersisted()
        const stored = await store.load(`size-${index}`)
        const storedBytes =
          (stored.snapshot?.byteLength ?? 0) + stored.entries.reduce((sum, entry) => sum + entry.update.byteLength, 0)
        expect(storedBytes).toBeLessThanOrEqual(boundOf(result.jsonBytes))
        if (workload.boundedWithoutEpochs) expect(result.epoch).toBe(0)
        else expect(result.epoch).toBeGreaterThan(0)
      } finally {
        await relay.close()
        await store.close()
      }
    },
  )
})

describe('epochs by default', () => {
  it('a relay given no option starts epochs by itself and stays within the bound', async () => {
    const store = new EmbeddedStore()
    const relay = await startRelay({ store, idleUnloadMs: 600_000 })
    try {
      const room = await relay.relay.openRoom('size-on-by-default')
      const result = await runWorkload(room, WORKLOADS[3]!, 5_000)
      expect(result.refusals).toEqual([])
      expect(result.epoch).toBeGreaterThan(0)
      expect(result.encodedBytes).toBeLessThanOrEqual(boundOf(result.jsonBytes))
    } finally {
      await relay.close()
      await store.close()
    }
  })
})

describe('with epochs off', () => {
  it('starts no epoch by itself, and compacts as before', async () => {
    const store = new EmbeddedStore()
    const relay = await startRelay({ store, idleUnloadMs: 600_000, epochs: false })
    try {
      const room = await relay.relay.openRoom('size-default')
      // The rolling list: far past the point where the option would have started an epoch.
      const result = await runWorkload(room, WORKLOADS[3]!, 5_000)
      expect(result.refusals).toEqual([])
      expect(result.epoch).toBe(0)
      expect(result.encodedBytes).toBeGreaterThan(boundOf(result.jsonBytes))
    } finally {
      await relay.close()
      await store.close()
    }
  })
})
