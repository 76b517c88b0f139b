/**
 * What the relay sends one client in one event-loop turn leaves in one socket write (issue
 * 12, "Relay hot path"), also when it comes from several callbacks of the turn: here two
 * immediates that each change the memory, whose fan-outs reach the same reader.
 */
import type { Socket } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { MessageType } from '@remem/client/protocol'
import { startRelay } from './helpers.ts'
import { RawClient } from './rawClient.ts'
import { countSocketWrites } from './socketWrites.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('sends the fan-outs of two callbacks of one turn to a reader in one write', async () => {
  const relay = await startRelay({ idleUnloadMs: 60_000 })
  cleanups.push(() => relay.close())
  const reader = await RawClient.open(relay.url)
  cleanups.push(() => reader.close())
  await reader.subscribe('turn', 5150)
  const room = relay.relay.rooms.get('turn')!
  const [session] = relay.relay.sessions
  const writes = countSocketWrites((session!.socket as unknown as { _socket: Socket })._socket)
  const before = reader.frames.length

  // Two immediates queued together run in the same check phase, each its own callback. (Two
  // timers of 0 ms did not always: under load the clock could tick between the two calls,
  // and the second timer was not yet due when the first ran.)
  const changes = room.doc.getMap('changes')
  setImmediate(() => changes.set('a', 1))
  setImmediate(() => changes.set('b', 2))
  await reader.until(() => (reader.mirror.getMap('changes').size === 2 ? true : undefined), 'both changes')

  expect(reader.frames.slice(before).filter((frame) => frame.type === MessageType.sync)).toHaveLength(2)
  expect(writes()).toBe(1)
})
