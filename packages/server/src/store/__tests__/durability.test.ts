import { describe, expect, it } from 'vitest'
import { startRedis } from '../../../../../test/redisServer.ts'
import { RedisStore } from '../RedisStore.ts'
import { durabilityWarning } from '../durability.ts'

describe('durabilityWarning', () => {
  it('warns when a primary has neither AOF nor replicas, or fewer replicas than ackReplicas', () => {
    expect(durabilityWarning([{ node: 'a:1', aof: false, replicas: 0 }], 0)).toMatch(
      /a:1 has neither AOF .* nor replicas: an acknowledged update survives only as long as that Redis process/,
    )
    expect(durabilityWarning([{ node: 'a:1', aof: true, replicas: 0 }], 0)).toBeNull()
    expect(durabilityWarning([{ node: 'a:1', aof: false, replicas: 1 }], 1)).toBeNull()
    expect(durabilityWarning([{ node: 'a:1', aof: true, replicas: 1 }, { node: 'b:2', aof: true, replicas: 0 }], 1)).toMatch(
      /--ack-replicas 1 but b:2 has 0 connected replicas/,
    )
  })

  it('reads AOF and replicas from a real Redis', async () => {
    const [plain, aof] = [await startRedis(), await startRedis({ persist: true })]
    const stores = [await RedisStore.connect({ redis: plain.url }), await RedisStore.connect({ redis: aof.url })]
    try {
      expect(await stores[0]!.durabilityWarning()).toMatch(/neither AOF/)
      expect(await stores[1]!.durabilityWarning()).toBeNull()
    } finally {
      await Promise.all(stores.map((store) => store.close()))
      await Promise.all([plain.stop(), aof.stop()])
    }
  })
})
