/**
 * What an ACK may cover, and what is refused (issue 9, findings 1 and 6):
 * - a handshake diff carries every pending change up to its seq, so when it is refused, no
 *   later ACK on that handshake may cover any of those seqs, even when a later update that
 *   does not depend on them is accepted;
 * - an UPDATE sent just before CLOSE is still a write (not refused as read-only).
 */
import type { Socket } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { RefusedError } from '@remem/client'
import { MessageType, encodeMessage } from '@remem/client/protocol'
import { connect, eventually, sleep, startRelay } from './helpers.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('a refused handshake diff is never acknowledged through a later accepted update', async () => {
  const relay = await startRelay({ maxUpdateBytes: 2_000 })
  cleanups.push(() => relay.close())
  const other = connect(relay.url)
  cleanups.push(() => other.close())
  const theirs = other.memory('diff')
  theirs.set('theirs', 1)
  await theirs.whenSynced()

  // Three changes made before the first handshake: each is small, but the handshake diff
  // that carries all three (tagged with seq 3) is larger than maxUpdateBytes.
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const mem = client.memory('diff')
  mem.set('a', 'x'.repeat(800))
  mem.set('b', 'y'.repeat(800))
  mem.set('c', 'z'.repeat(800))
  await eventually(() => {
    const refusal = client.errors.find((e) => e instanceof RefusedError)
    expect((refusal as RefusedError | undefined)?.reason).toBe('updateTooLarge')
  })
  await eventually(() => expect(mem.get('theirs')).toBe(1))
  expect(mem.status.pending).toBe(3)

  // Seq 4 deletes another client's entry: it adds no structs of this client, so it does not
  // depend on the refused diff, and the relay applies and persists it.
  mem.delete('theirs')
  await eventually(() => expect(theirs.has('theirs')).toBe(false))
  await eventually(() => expect(relay.relay.rooms.get('diff')?.pendingWrites).toBe(0))
  await sleep(100)
  // Seqs 1 and 2 travelled only in the refused diff: no ACK may settle them.
  expect(mem.status.pending).toBe(4)
  let synced = false
  void mem.whenSynced().then(() => (synced = true))
  await sleep(100)
  expect(synced).toBe(false)
  expect(theirs.has('a')).toBe(false)
})

it('an UPDATE sent just before CLOSE is applied and persisted, not refused as read-only', async () => {
  const relay = await startRelay()
  cleanups.push(() => relay.close())
  const reader = connect(relay.url)
  cleanups.push(() => reader.close())
  const seen = reader.memory('closing')
  await eventually(() => expect(seen.status.connection).toBe('online'))
  const raw = await RawClient.open(relay.url)
  cleanups.push(() => raw.close())
  await raw.subscribe('closing')

  // UPDATE and CLOSE in one TCP segment, as a client that writes and closes at once sends
  // them: the relay handles both frames in the same turn.
  const socket = (raw.socket as unknown as { _socket: Socket })._socket
  socket.cork()
  raw.send(updateFrame('closing', 1, entryUpdate(616_161, raw.mirror, 'last', 'words')))
  raw.send(encodeMessage({ type: MessageType.close, name: 'closing' }))
  socket.uncork()

  await eventually(() => expect(seen.get('last')).toBe('words'))
  expect(await raw.barrier()).toBeNull()
  expect(raw.refusals()).toEqual([])
  await raw.until(() => (raw.acks().includes(1) ? true : undefined), 'ACK 1')
})
