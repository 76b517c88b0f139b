/**
 * Issue 9, finding 5: memories opened all at once on a relay that has just started must
 * all load. The store's pub/sub connection used to be created by the first SUBSCRIBE, which
 * then raced ioredis' ready check (`Connection in subscriber mode, only subscriber commands
 * may be used`) and the memories were refused with ERROR loadFailed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MessageType } from '@remem/client/protocol'
import { startRelay } from './helpers.ts'
import { RawClient, syncStep1 } from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import * as Y from 'yjs'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})

const MEMORIES = 100
const ROUNDS = 5

it(`a fresh relay loads ${MEMORIES} memories opened at once (${ROUNDS} fresh relays)`, async () => {
  const refused: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const relay = await startRelay({ redis: redis.url, maxMemoriesPerConnection: MEMORIES })
    const client = await RawClient.open(relay.url, { mirror: false })
    try {
      const names = Array.from({ length: MEMORIES }, (_, i) => `fresh-${round}-${i}`)
      // Right after the relay started, one frame per turn of the event loop: the rooms load
      // and subscribe while the store's pub/sub connection is still connecting.
      for (const name of names) {
        client.send(syncStep1(name, new Y.Doc()))
        await new Promise((resolve) => setImmediate(resolve))
      }
      const answered = (): Set<string> =>
        new Set(
          client.frames
            .filter((f) => (f.type === MessageType.sync || f.type === MessageType.error) && f.name.startsWith('fresh-'))
            .map((f) => f.name),
        )
      await client.until(() => (answered().size === MEMORIES ? true : undefined), `answers for all ${MEMORIES} memories`, 20_000)
      for (const error of client.errors()) refused.push(`round ${round}: ${error.name}: ${error.message}`)
    } finally {
      client.close()
      await relay.close()
    }
  }
  expect(refused).toEqual([])
})
