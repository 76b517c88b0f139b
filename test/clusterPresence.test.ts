/**
 * Relays acting as one on a Redis Cluster (and on one Redis): presence is shared, so a user
 * on relay A sees a user on relay B, and a closed tab disappears from both; and a client id
 * declared on relay A cannot be written as from relay B.
 */
import type { Memory, PresenceSnapshot } from '@remem/client'
import { ErrorCode } from '@remem/client/protocol'
import { describe, expect, it } from 'vitest'
import { connect, eventually, startRelay } from './helpers.ts'
import { RawClient, peerUpdate, updateFrame } from './rawClient.ts'
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

describe('client-id ownership across relays on a Redis Cluster', () => {
  it("a connection on relay B writing as a live client of relay A is refused; honest clients converge", async () => {
    const [r1, r2] = [await relay(), await relay()]
    const alice = client(r1.url).memory('owned')
    const bob = client(r2.url).memory('owned')
    alice.set('a', 1)
    bob.set('b', 1)
    await Promise.all([alice.whenSynced(), bob.whenSynced()])
    await eventually(() => expect(bob.toJSON()).toEqual({ a: 1, b: 1 }))
    await eventually(() => expect(r2.relay.rooms.get('owned')?.clientIds.size).toBe(2))

    const hostile = await RawClient.open(r2.url)
    cleanups.push(async () => hostile.close())
    await hostile.subscribe('owned')
    const from = hostile.frames.length
    const hijack = peerUpdate(alice.doc.clientID, hostile.mirror, (doc) => doc.getArray('root').push([{ k: 'a', v: 'hijacked' }]))
    hostile.send(updateFrame('owned', 1, hijack))
    const error = await hostile.until(() => hostile.refusals(from)[0], 'an ERROR')
    expect(error).toMatchObject({ name: 'owned', code: ErrorCode.clientIdTaken })
    expect(hostile.acks(from)).toEqual([])

    alice.set('a', 2)
    bob.set('b', 2)
    await eventually(() => {
      expect(alice.toJSON()).toEqual({ a: 2, b: 2 })
      expect(bob.toJSON()).toEqual({ a: 2, b: 2 })
    })
  })
})
