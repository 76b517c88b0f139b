/**
 * Relays acting as one on a Redis Cluster (and on one Redis): presence is shared, so a user
 * on relay A sees a user on relay B, and a closed tab disappears from both.
 */
import type { Memory, PresenceSnapshot } from '@remem/client'
import { describe, expect, it } from 'vitest'
import { connect, eventually, startRelay } from './helpers.ts'
import { startRedis } from './redisServer.ts'
import { useRedisCluster } from './redisCluster.ts'

const setup = useRedisCluster()
const { cleanups } = setup

async function relay() {
  const handle = await startRelay({ redisCluster: setup.cluster.seeds })
  cleanups.push(() => handle.close())
  return handle
}

function client(url: string) {
  const c = connect(url)
  cleanups.push(() => c.close())
  return c
}

const others = (memory: Memory): PresenceSnapshot['others'] => memory.presence.getSnapshot().others

describe('presence across relays on a Redis Cluster', () => {
  it('a user on relay A sees a user on relay B, updates follow, and a closed tab disappears from both', async () => {
    const [r1, r2] = [await relay(), await relay()]
    const a = client(r1.url)
    const ma = a.memory('room')
    const mb = client(r2.url).memory('room')
    const mc = client(r2.url).memory('room')
    ma.presence.setState({ name: 'Ada' })
    mb.presence.setState({ name: 'Bob' })
    const ids = (memory: Memory) => others(memory).map((other) => other.clientId).sort()
    await eventually(() => {
      expect(others(mc)).toContainEqual({ clientId: ma.presence.clientId, state: { name: 'Ada' } })
      expect(others(ma)).toContainEqual({ clientId: mb.presence.clientId, state: { name: 'Bob' } })
      expect(ids(ma)).toEqual([mb.presence.clientId, mc.presence.clientId].sort())
      expect(ids(mb)).toEqual([ma.presence.clientId, mc.presence.clientId].sort())
    })
    ma.presence.setState({ name: 'Ada', cursor: 3 })
    await eventually(() =>
      expect(others(mc)).toContainEqual({ clientId: ma.presence.clientId, state: { name: 'Ada', cursor: 3 } }),
    )
    await a.close()
    await eventually(
      () => {
        expect(ids(mb)).toEqual([mc.presence.clientId])
        expect(ids(mc)).toEqual([mb.presence.clientId])
      },
      { timeoutMs: 3000 },
    )
  })

  it('a relay that loads the memory later gets the states of the others', async () => {
    const r1 = await relay()
    const ma = client(r1.url).memory('late')
    ma.presence.setState({ name: 'Ada' })
    await eventually(() => expect(r1.relay.rooms.get('late')?.awareness.size).toBe(1))
    const r2 = await relay()
    const mb = client(r2.url).memory('late')
    await eventually(() => expect(others(mb)).toEqual([{ clientId: ma.presence.clientId, state: { name: 'Ada' } }]))
  })
})

describe('presence across relays on one Redis', () => {
  it('a user on relay A sees a user on relay B, and not after the tab closed', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const relays = [await startRelay({ redis: redis.url }), await startRelay({ redis: redis.url })]
    for (const r of relays) cleanups.push(() => r.close())
    const a = client(relays[0]!.url)
    const ma = a.memory('one')
    const mb = client(relays[1]!.url).memory('one')
    ma.presence.setState({ name: 'Ada' })
    await eventually(() => expect(others(mb)).toEqual([{ clientId: ma.presence.clientId, state: { name: 'Ada' } }]))
    await a.close()
    await eventually(() => expect(others(mb)).toEqual([]), { timeoutMs: 3000 })
  })
})
