import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../../../../test/helpers.ts'
import { type RedisServer, startRedis } from '../../../../test/redisServer.ts'
import { silentLogger } from '../logger.ts'
import { PresenceLink } from '../PresenceLink.ts'
import { type AwarenessSession, RoomAwareness, decodeAwarenessUpdate, encodeAwarenessUpdate } from '../RoomAwareness.ts'
import { RedisPresenceBus } from '../store/PresenceBus.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server.stop()
})

/** A relay's room: its awareness, one local session that records what it is sent, and the link. */
function relayRoom(relayId: string, redis: Redis, refreshMs: number) {
  const received: Array<{ clientId: number; state: string | null }> = []
  const session: AwarenessSession = {
    send: (frame) => received.push(...decodeAwarenessUpdate(frame, 1 << 20)),
  }
  const awareness = new RoomAwareness(new Set([session]), (payload) => payload)
  const bus = new RedisPresenceBus(redis, false, (name) => `remem:{test${name}}:presence`)
  const link = new PresenceLink(awareness, bus, 'room', relayId, silentLogger, refreshMs)
  const seen = () => {
    const last = new Map<number, string | null>()
    for (const entry of received) last.set(entry.clientId, entry.state)
    return [...last].filter(([, state]) => state !== null).map(([clientId]) => clientId)
  }
  return { awareness, session, link, bus, seen }
}

describe('PresenceLink', () => {
  it('shares states between relays, and drops those of a relay that stopped refreshing them', async () => {
    const [redisA, redisB] = [new Redis(server.url), new Redis(server.url)]
    const a = relayRoom('relay-a', redisA, 100)
    const b = relayRoom('relay-b', redisB, 100)
    try {
      await a.link.start()
      await b.link.start()
      a.awareness.apply(a.session, encodeAwarenessUpdate([{ clientId: 7, clock: 1, state: '{"name":"Ada"}' }]))
      b.awareness.apply(b.session, encodeAwarenessUpdate([{ clientId: 9, clock: 1, state: '{"name":"Bob"}' }]))
      await eventually(() => {
        expect(b.seen()).toEqual([7])
        expect(a.seen()).toEqual([9])
      })
      // Relay B crashes: no removal is sent, and it stops refreshing.
      await b.link.close()
      await eventually(() => expect(a.seen()).toEqual([]), { timeoutMs: 3000 })
      expect(a.awareness.size).toBe(1)
    } finally {
      await a.link.close()
      await Promise.all([a.bus.close(), b.bus.close()])
      redisA.disconnect()
      redisB.disconnect()
    }
  })
})
