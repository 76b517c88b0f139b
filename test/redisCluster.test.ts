import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCluster, startRedisCluster } from './redisCluster.ts'

describe('startRedisCluster', () => {
  let cluster: RedisCluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('forms 3 primaries with a replica each, and a killed primary is replaced', async () => {
    expect(cluster.nodes).toHaveLength(6)
    expect(await cluster.primaries()).toHaveLength(3)
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }])
    try {
      // WAIT in the same pipeline as the SET runs on the key's node (alone, it goes to any node,
      // whose replica has nothing to catch up: the promoted replica could lack the key).
      const replies = await client.pipeline().set('k', 'v').wait(1, 2000).exec()
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 1],
      ])
      const before = await cluster.primaryOf('k')
      const killed = await cluster.killPrimaryOf('k')
      expect(killed).toBe(before)
      const after = await cluster.primaryOf('k')
      expect(after).not.toBe(before)
      expect(await client.get('k')).toBe('v')
      expect(await cluster.primaries()).toHaveLength(3)
    } finally {
      client.disconnect()
    }
  })
})
