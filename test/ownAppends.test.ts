/**
 * A relay does not apply its own appends again when their broadcast comes back (issue 12,
 * "Relay hot path"): its document already holds them. It still follows the log's id chain
 * past them, and still applies what other relays append. Counts transactions, not times.
 */
import { expect, it } from 'vitest'
import type { Transaction } from 'yjs'
import type { MemoryRoom } from '../packages/server/src/MemoryRoom.ts'
import { connect, eventually, startRelay } from './helpers.ts'
import { useRedisFile } from './redisFile.ts'

const file = useRedisFile()

/** Counts the room's transactions that applied an update from the store (broadcast or log). */
function storeTransactions(room: MemoryRoom): () => number {
  let count = 0
  room.doc.on('afterTransaction', (transaction: Transaction) => {
    const origin = transaction.origin as unknown
    if (typeof origin === 'symbol' && origin.description === 'store') count++
  })
  return () => count
}

it("skips applying the relay's own appends on their broadcast, and applies the other relay's", async () => {
  const relayA = await startRelay({ redis: file.server.url, idleUnloadMs: 60_000 })
  const relayB = await startRelay({ redis: file.server.url, idleUnloadMs: 60_000 })
  file.cleanups.push(() => relayA.close(), () => relayB.close())
  const clientA = connect(relayA.url)
  const clientB = connect(relayB.url)
  file.cleanups.push(async () => clientA.close(), async () => clientB.close())
  const onA = clientA.memory('echo')
  const onB = clientB.memory('echo')
  await eventually(() => expect([onA.status.connection, onB.status.connection]).toEqual(['online', 'online']))
  const roomA = relayA.relay.rooms.get('echo')!
  const roomB = relayB.relay.rooms.get('echo')!
  const appliedOnA = storeTransactions(roomA)
  const appliedOnB = storeTransactions(roomB)

  for (let i = 0; i < 20; i++) {
    onA.set('k', i)
    await onA.whenSynced()
  }
  await eventually(() => expect(onB.get('k')).toBe(19))
  // Both rooms followed the log to its end: A past its own entries without applying them.
  await eventually(() => expect(roomA.lastId).toBe(roomB.lastId))
  expect(roomA.lastId).not.toBe('0-0')
  expect(appliedOnA()).toBe(0)
  expect(appliedOnB()).toBeGreaterThanOrEqual(1)

  // What relay B appends is still applied on A.
  onB.set('k', 'from B')
  await eventually(() => expect(onA.get('k')).toBe('from B'))
  expect(appliedOnA()).toBeGreaterThanOrEqual(1)
  await eventually(() => expect(roomA.lastId).toBe(roomB.lastId))
})

it('counts each appended entry once toward the stored size that triggers compaction', async () => {
  const relay = await startRelay({ redis: file.server.url, idleUnloadMs: 60_000 })
  file.cleanups.push(() => relay.close())
  const client = connect(relay.url)
  file.cleanups.push(async () => client.close())
  const memory = client.memory('sized')
  for (let i = 0; i < 20; i++) {
    memory.set(`k${i}`, i)
    await memory.whenSynced()
  }
  const room = relay.relay.rooms.get('sized')!
  // Every broadcast is back (the room's lastId is the log's last id), none compacted away.
  const entries = await file.redis.xrangeBuffer('remem:{memory:sized}:log', '-', '+')
  await eventually(() => expect(room.lastId).toBe(entries.at(-1)![0].toString()))
  expect(await file.redis.exists('remem:{memory:sized}:snapshot')).toBe(0)
  const logBytes = entries.reduce((sum, [, fields]) => sum + fields[1]!.byteLength, 0)
  expect(room.epochs.storedBytes).toBe(logBytes)
})
