/**
 * Failover on a real Redis Cluster: the primary holding a memory (or a projected key) is
 * killed and its replica promoted while relays keep running.
 */
import { Cluster } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docToJSON } from '@remem/client/protocol'
import { type RelayOptions, RedisClusterStore } from '@remem/server'
import { connect, eventually, sleep, startRelay } from './helpers.ts'
import { type RedisCluster, startRedisCluster } from './redisCluster.ts'

let cluster: RedisCluster
const cleanups: Array<() => Promise<unknown>> = []
// A fresh cluster per test: each one kills a primary.
beforeEach(async () => {
  cluster = await startRedisCluster()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await cluster.stop()
})

async function relay(options: RelayOptions = {}) {
  const handle = await startRelay({ redisCluster: cluster.seeds, ...options })
  cleanups.push(() => handle.close())
  return handle
}

function open(url: string, name: string) {
  const client = connect(url)
  cleanups.push(() => client.close())
  return client.memory(name)
}

/** Memory `name` as a relay starting now would load it from the cluster. */
async function coldRead(name: string): Promise<unknown> {
  const store = await RedisClusterStore.connectCluster({ cluster: cluster.seeds })
  try {
    const stored = await store.load(name)
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const entry of stored.entries) Y.applyUpdate(doc, entry.update)
    return docToJSON(doc)
  } finally {
    await store.close()
  }
}

describe('failover on a Redis Cluster', () => {
  it('with ackReplicas 1, killing the memory’s primary while clients write loses no acked update', async () => {
    const [r1, r2] = [await relay({ ackReplicas: 1 }), await relay({ ackReplicas: 1 })]
    const a = open(r1.url, 'fo')
    const b = open(r2.url, 'fo')
    const acked = new Set<string>()
    let stop = false
    const writer = async (memory: typeof a, tag: string): Promise<number> => {
      let i = 0
      while (!stop) {
        const key = `${tag}${i}`
        memory.set(key, i++)
        if (i % 5 === 0) {
          const written = Array.from({ length: 5 }, (_, k) => `${tag}${i - 5 + k}`)
          await memory.whenSynced()
          for (const done of written) acked.add(done)
        }
        await sleep(5)
      }
      await memory.whenSynced()
      return i
    }
    const writing = Promise.all([writer(a, 'a'), writer(b, 'b')])
    await eventually(() => acked.size >= 20)
    const ackedBeforeKill = new Set(acked)
    const killed = await cluster.killPrimaryOf('remem:{memory:fo}:log')
    // The promoted replica has no replica of its own until the old primary comes back:
    // meanwhile WAIT 1 cannot be satisfied, and nothing is acknowledged.
    const ackedAtPromotion = acked.size
    await cluster.rejoin(killed)
    // Writes go on through the new primary.
    await eventually(() => acked.size >= ackedAtPromotion + 20, { timeoutMs: 30_000 })
    stop = true
    const [countA, countB] = await writing

    await eventually(() => expect(b.toJSON()).toEqual(a.toJSON()))
    const expected = {
      ...Object.fromEntries(Array.from({ length: countA }, (_, i) => [`a${i}`, i])),
      ...Object.fromEntries(Array.from({ length: countB }, (_, i) => [`b${i}`, i])),
    }
    expect(a.toJSON()).toEqual(expected)
    const stored = (await coldRead('fo')) as Record<string, unknown>
    const lost = [...ackedBeforeKill].filter((key) => !(key in stored))
    expect(lost).toEqual([])
    expect(stored).toEqual(expected)
  })

  it('a relay following keyspace notifications keeps ingesting external writes after a failover', async () => {
    const r = await relay()
    const mem = open(r.url, 'follow')
    const redis = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }])
    cleanups.push(async () => redis.disconnect())
    await eventually(() => mem.status.connection === 'online')
    await redis.set('memory:follow:k', JSON.stringify({ value: 'before', last_modified: 1 }))
    await eventually(() => expect(mem.get('k')).toBe('before'))
    const before = r.relay.stats.ingests

    await cluster.killPrimaryOf('memory:follow:k')
    await redis.set('memory:follow:k', JSON.stringify({ value: 'after', last_modified: 2 }))
    await eventually(() => expect(mem.get('k')).toBe('after'), { timeoutMs: 15_000 })
    // And later writes, once the relay follows the new primary, arrive by notification.
    await sleep(1500)
    await redis.set('memory:follow:k', JSON.stringify({ value: 'later', last_modified: 3 }))
    await eventually(() => expect(mem.get('k')).toBe('later'))
    expect(r.relay.stats.ingests).toBeGreaterThanOrEqual(before + 2)
  })
})
