/**
 * On a Redis Cluster the relay's keyspace subscriber of each primary subscribes again by
 * itself after its connection is cut (ioredis' automatic re-subscription is off: its
 * promise was left unhandled), also when it is cut twice in a row, and external writes made
 * afterwards are ingested.
 */
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { connect, eventually, startRelay } from './helpers.ts'
import { useRedisCluster } from './redisCluster.ts'
import { wrappedText } from './projectionText.ts'

const env = useRedisCluster({ replicas: 0 })
const wrapped = wrappedText

describe('cluster keyspace subscribers', () => {
  it('subscribe again after CLIENT KILL TYPE pubsub twice, and follow external writes', async () => {
    const relay = await startRelay({ redisCluster: env.cluster.seeds })
    env.cleanups.push(() => relay.close())
    const client = connect(relay.url)
    env.cleanups.push(async () => client.close())
    const mem = client.memory('resub')
    mem.set('x', 1)
    await mem.whenSynced()
    const owner = await env.cluster.primaryOf('memory:resub:x')
    const node = new Redis({ host: '127.0.0.1', port: owner.port })
    env.cleanups.push(async () => node.disconnect())
    const patterns = async () => Number(await node.call('PUBSUB', 'NUMPAT'))
    await eventually(async () => expect(await patterns()).toBeGreaterThan(0))
    for (let cut = 0; cut < 2; cut++) {
      await node.client('KILL', 'TYPE', 'pubsub')
      await eventually(async () => expect(await patterns()).toBeGreaterThan(0), { timeoutMs: 15_000 })
    }
    await node.set('memory:resub:x', wrapped(2))
    await eventually(() => expect(mem.get('x')).toBe(2), { timeoutMs: 15_000 })
  })
})
