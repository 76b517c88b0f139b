/**
 * Clients and relays on a real Redis Cluster (3 primaries, 3 replicas): convergence, a
 * missed broadcast recovered from the log, projection and ingest of keys in many slots,
 * reconcile after missed notifications, and expiry.
 */
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RelayOptions, RedisClusterStore } from '@remem/server'
import { type SyncedList } from '@remem/client'
import { startCliRelay } from './cliRelay.ts'
import { freePort, spawnRelay } from './relayProcess.ts'
import { connect, dropFirstBroadcast, eventually, sleep, startRelay } from './helpers.ts'
import { type RedisCluster, startRedisCluster } from './redisCluster.ts'
import { projectedValue, wrappedText } from './projectionText.ts'

let cluster: RedisCluster
let redis: Cluster
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  cluster = await startRedisCluster()
  redis = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }])
})
afterAll(async () => {
  redis?.disconnect()
  await cluster?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
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

const wrapped = wrappedText
const projected = (key: string): Promise<unknown> => projectedValue(redis, key)

/** Keys of memory `name` that land on every primary (several slots each). */
async function keysOnEveryPrimary(name: string, perPrimary = 2): Promise<string[]> {
  const primaries = await cluster.primaries()
  const picked = new Map(primaries.map((node) => [node.port, [] as string[]]))
  for (let i = 0; [...picked.values()].some((keys) => keys.length < perPrimary); i++) {
    const key = `k${i}`
    const owner = await cluster.primaryOf(`memory:${name}:${key}`)
    const keys = picked.get(owner.port)!
    if (keys.length < perPrimary) keys.push(key)
  }
  return [...picked.values()].flat()
}

describe('clients and relays on a Redis Cluster', () => {
  it('two clients on one relay converge', async () => {
    const r = await relay()
    const a = open(r.url, 'pair')
    const b = open(r.url, 'pair')
    a.set('list', [1, 2])
    b.set('name', 'Ada')
    await eventually(() => {
      expect(a.toJSON()).toEqual({ list: [1, 2], name: 'Ada' })
      expect(b.toJSON()).toEqual(a.toJSON())
    })
    ;(a.get('list') as SyncedList).push(3)
    b.delete('name')
    await eventually(() => {
      expect(a.toJSON()).toEqual({ list: [1, 2, 3] })
      expect(b.toJSON()).toEqual(a.toJSON())
    })
  })

  it('two relays converge, a client on each, on memories in every shard', async () => {
    const [r1, r2] = [await relay(), await relay()]
    const names = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']
    const shards = new Set(await Promise.all(names.map(async (name) => (await cluster.primaryOf(`remem:{memory:${name}}`)).port)))
    expect(shards.size).toBeGreaterThan(1)
    const pairs = names.map((name) => [open(r1.url, name), open(r2.url, name)] as const)
    pairs.forEach(([a, b], i) => {
      a.set('from', `a${i}`)
      b.set('list', [i])
    })
    for (const [a, b] of pairs) {
      await eventually(() => {
        expect(b.toJSON()).toEqual(a.toJSON())
        expect(Object.keys(a.toJSON()).sort()).toEqual(['from', 'list'])
      })
    }
  })

  it('remem-relay --redis-cluster serves clients, and warns when acks wait for missing replicas', async () => {
    const cli = await startCliRelay(['--port', '0', '--ack-replicas', '2'], {
      REDIS_CLUSTER_NODES: cluster.seeds.slice(0, 2).join(','),
    })
    cleanups.push(() => cli.stop())
    expect(cli.line).toContain('store: cluster redis://127.0.0.1:')
    expect(cli.output().stderr).toMatch(/--ack-replicas 2 but .* has 1 connected replicas/)
    const [a, b] = [open(cli.url, 'cli'), open(cli.url, 'cli')]
    a.set('via', 'cli')
    // With 2 replicas asked of a cluster with 1 per primary, nothing is acknowledged...
    await eventually(() => expect(b.get('via')).toBe('cli'))
    await sleep(300)
    expect(a.status.pending).toBeGreaterThan(0)
  })

  it('a relay process killed with SIGKILL and started again reloads everything from the cluster', async () => {
    const port = await freePort()
    const start = async () => {
      const relay = await spawnRelay(['--port', String(port), '--redis-cluster', cluster.seeds.join(',')])
      cleanups.push(async () => {
        relay.child.kill('SIGKILL')
        await relay.exited
      })
      return relay
    }
    const first = await start()
    const a = open(first.url, 'restart')
    for (let i = 0; i < 20; i++) a.set(`k${i}`, i)
    await a.whenSynced()
    first.child.kill('SIGKILL')
    await first.exited
    await eventually(() => a.status.connection === 'offline')
    a.set('offline', true)
    await start()
    await a.whenSynced()
    const fresh = open(first.url, 'restart')
    const expected = { ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])), offline: true }
    await eventually(() => expect(fresh.toJSON()).toEqual(expected))
  })

  it('recovers a dropped sharded pub/sub message from the log', async () => {
    const inner = await RedisClusterStore.connectCluster({ cluster: cluster.seeds })
    cleanups.push(() => inner.close())
    // Relay 2's store loses the first broadcast it would deliver for this memory.
    const { store: lossy, dropped } = dropFirstBroadcast(inner)
    const r1 = await relay()
    const r2 = await relay({ store: lossy })
    const a = open(r1.url, 'lossy')
    const b = open(r2.url, 'lossy')
    await eventually(() => b.status.connection === 'online' && a.status.connection === 'online')
    a.set('first', 1)
    await a.whenSynced()
    await sleep(100)
    expect(dropped()).toBe(1)
    expect(b.has('first')).toBe(false)
    a.set('second', 2)
    await eventually(() => expect(b.toJSON()).toEqual({ first: 1, second: 2 }))
  })
})

describe('projection on a Redis Cluster', () => {
  it('projects SET and DEL of keys on every primary, and ingests SET, HSET, RPUSH and DEL there', async () => {
    const r = await relay()
    const mem = open(r.url, 'slots')
    const keys = await keysOnEveryPrimary('slots')
    keys.forEach((key, i) => mem.set(key, { i }))
    for (const [i, key] of keys.entries()) {
      await eventually(async () => expect(await projected(`memory:slots:${key}`)).toEqual({ i }))
    }
    mem.delete(keys[0]!)
    await eventually(async () => expect(await redis.exists(`memory:slots:${keys[0]}`)).toBe(0))

    const [s, h, l, d] = keys.slice(1)
    await redis.set(`memory:slots:${s}`, wrapped('external'))
    await redis.del(`memory:slots:${h}`)
    await redis.hset(`memory:slots:${h}`, { f: '1', g: 'text' })
    await redis.del(`memory:slots:${l}`)
    await redis.rpush(`memory:slots:${l}`, 'a', '2')
    await redis.del(`memory:slots:${d}`)
    await eventually(() => {
      const json = mem.toJSON()
      expect(json[s!]).toBe('external')
      expect(json[h!]).toEqual({ f: 1, g: 'text' })
      expect(json[l!]).toEqual(['a', 2])
      expect(mem.has(d!)).toBe(false)
    })
  })

  it('several relays apply one external change once; their own writes are never ingested', async () => {
    const [r1, r2] = [await relay(), await relay()]
    const a = open(r1.url, 'once')
    const b = open(r2.url, 'once')
    const keys = await keysOnEveryPrimary('once', 1)
    for (let i = 0; i < 300; i++) (i % 2 ? a : b).set(keys[i % keys.length]!, { i })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await eventually(() => expect(a.toJSON()).toEqual(b.toJSON()))
    for (const key of keys) {
      await eventually(async () => expect(await projected(`memory:once:${key}`)).toEqual(a.toJSON()[key]))
    }
    await sleep(200)
    expect(r1.relay.stats.ingests + r2.relay.stats.ingests).toBe(0)
    await redis.set(`memory:once:${keys[0]}`, wrapped('outside'))
    await eventually(() => {
      expect(a.get(keys[0]!)).toBe('outside')
      expect(b.get(keys[0]!)).toBe('outside')
    })
    await sleep(200)
    expect(r1.relay.stats.ingests + r2.relay.stats.ingests).toBe(1)
  })

  it('a memory loaded for the first time shows keys written on every primary while no relay ran', async () => {
    const keys = await keysOnEveryPrimary('cold', 1)
    for (const key of keys) await redis.set(`memory:cold:${key}`, wrapped(key))
    const r = await relay()
    const mem = open(r.url, 'cold')
    await eventually(() => expect(mem.toJSON()).toEqual(Object.fromEntries(keys.map((key) => [key, key]))))
  })

  it('notifications missed while the relay’s subscriber was cut are reconciled', async () => {
    const r = await relay()
    const mem = open(r.url, 'cut')
    mem.set('x', 1)
    await mem.whenSynced()
    await eventually(async () => expect(await projected('memory:cut:x')).toBe(1))
    // On the primary of the key: cut every pub/sub connection and write before a resubscribe.
    const owner = await cluster.primaryOf('memory:cut:x')
    const node = new Redis({ host: '127.0.0.1', port: owner.port })
    try {
      await node.multi().client('KILL', 'TYPE', 'pubsub').set('memory:cut:x', wrapped(2)).exec()
    } finally {
      node.disconnect()
    }
    await eventually(() => expect(mem.toJSON()).toEqual({ x: 2 }), { timeoutMs: 15_000 })
  })

  it('a delete whose notification was missed is found by reconcile through the orphan record', async () => {
    const r = await relay()
    const mem = open(r.url, 'gone')
    mem.set('x', 1)
    mem.set('y', 2)
    await mem.whenSynced()
    await eventually(async () => expect(await projected('memory:gone:y')).toBe(2))
    const owner = await cluster.primaryOf('memory:gone:y')
    const node = new Redis({ host: '127.0.0.1', port: owner.port })
    try {
      await node.multi().client('KILL', 'TYPE', 'pubsub').del('memory:gone:y').exec()
    } finally {
      node.disconnect()
    }
    await eventually(() => expect(mem.toJSON()).toEqual({ x: 1 }), { timeoutMs: 15_000 })
  })

  it('a key set with ttl has the expiry in the cluster and disappears from every client', async () => {
    const r = await relay()
    const a = open(r.url, 'ttl')
    const b = open(r.url, 'ttl')
    a.set('session', { user: 'ada' }, { ttl: 600 })
    a.set('stays', true)
    await eventually(() => expect(b.toJSON()).toEqual({ session: { user: 'ada' }, stays: true }))
    await eventually(async () => expect(await redis.pttl('memory:ttl:session')).toBeGreaterThan(0))
    await eventually(() => {
      expect(a.toJSON()).toEqual({ stays: true })
      expect(b.toJSON()).toEqual({ stays: true })
    })
    expect(await redis.exists('memory:ttl:session')).toBe(0)
  })
})
