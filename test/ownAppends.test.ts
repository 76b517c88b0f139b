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
