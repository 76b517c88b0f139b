/**
 * Group commit (issue 12): the updates that arrive in one event-loop turn, from one socket or
 * several, are checked one by one, in order, and applied in one transaction: one fan-out
 * frame per receiver, one log entry, one ACK per sender. A refused update is refused alone.
 */
import type { Socket } from 'node:net'
import * as Y from 'yjs'
import { afterEach, expect, it } from 'vitest'
import { MessageType } from '@remem/client/protocol'
import { connect, eventually, startRelay } from './helpers.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Sends `frames` in one TCP write, so that the relay reads them together. */
function sendTogether(client: RawClient, frames: Uint8Array[]): void {
  const tcp = (client.socket as unknown as { _socket: Socket })._socket
  tcp.cork()
  for (const frame of frames) client.send(frame)
  tcp.uncork()
}

it('applies the updates of one read in one transaction, refusing a bad one alone', async () => {
  const relay = await startRelay({ idleUnloadMs: 60_000 })
  cleanups.push(() => relay.close())
  const reader = connect(relay.url)
  cleanups.push(() => reader.close())
  const seen = reader.memory('batch')
  await eventually(() => expect(seen.status.connection).toBe('online'))

  const writer = await RawClient.open(relay.url)
  cleanups.push(() => writer.close())
  await writer.subscribe('batch', 4242)
  const room = relay.relay.rooms.get('batch')!
  let transactions = 0
  room.doc.on('afterTransaction', () => transactions++)

  // 40 entries written by client 4242, each update after the one before; update 21 is garbage.
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer.mirror))
  doc.clientID = 4242
  const root = doc.getArray('root')
  const frames: Uint8Array[] = []
  for (let i = 1; i <= 40; i++) {
    const before = Y.encodeStateVector(doc)
    root.push([{ k: `k${i}`, v: i }])
    frames.push(
      updateFrame(
        'batch',
        i,
        i === 21 ? new Uint8Array([1, 2, 3]) : Y.encodeStateAsUpdate(doc, before),
      ),
    )
  }
  const before = writer.frames.length
  sendTogether(writer, frames)

  // Update 21 is refused; 22 and later need what 21 should have carried, so each of them is
  // refused too (missing dependencies); 1 to 20 are applied, fanned out and acknowledged.
  const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i + 1}`, i + 1]))
  await eventually(() => expect(seen.toJSON()).toEqual(expected))
  await eventually(() => expect(writer.acks(before).at(-1)).toBe(20))
  const refusals = writer.refusals(before)
  expect(refusals).toHaveLength(20)
  expect(refusals[0]!.message).toMatch(/update seq 21\)/)
  expect(refusals.slice(1).every((refusal) => /missing|starts client/.test(refusal.message))).toBe(
    true,
  )
  // One read, one batch: one transaction and one ACK (a few if TCP split the write), not 20.
  expect(transactions).toBeLessThanOrEqual(3)
  expect(writer.acks(before).length).toBeLessThanOrEqual(3)
  // The writer is not sent its own updates back.
  expect(writer.frames.slice(before).some((frame) => frame.type === MessageType.sync)).toBe(false)
  // And they are in the log: a fresh client loads them.
  await room.whenPersisted()
  const fresh = connect(relay.url)
  cleanups.push(() => fresh.close())
  const loaded = fresh.memory('batch')
  await eventually(() => expect(loaded.toJSON()).toEqual(expected))
})

it('applies the updates several sockets deliver in one turn in one transaction', async () => {
  const relay = await startRelay({ idleUnloadMs: 60_000 })
  cleanups.push(() => relay.close())
  const reader = await RawClient.open(relay.url)
  cleanups.push(() => reader.close())
  await reader.subscribe('turn')
  const writers: RawClient[] = []
  for (const id of [5001, 5002, 5003]) {
    const writer = await RawClient.open(relay.url)
    cleanups.push(() => writer.close())
    await writer.subscribe('turn', id)
    writers.push(writer)
  }
  const room = relay.relay.rooms.get('turn')!
  let transactions = 0
  room.doc.on('afterTransaction', () => transactions++)
  const [first, refused, third] = writers as [RawClient, RawClient, RawClient]
  const before = writers.map((writer) => writer.frames.length)
  const readerBefore = reader.frames.length

  // Sent in one tick of this process: the relay (in this process too) reads all three sockets
  // in its next turn. The second writer's update is garbage.
  first.send(updateFrame('turn', 1, entryUpdate(5001, first.mirror, 'a', 1)))
  refused.send(updateFrame('turn', 1, new Uint8Array([1, 2, 3])))
  third.send(updateFrame('turn', 1, entryUpdate(5003, third.mirror, 'c', 3)))

  await eventually(() => expect(first.acks(before[0]).at(-1)).toBe(1))
  await eventually(() => expect(third.acks(before[2]).at(-1)).toBe(1))
  await eventually(() => expect(refused.refusals(before[1])).toHaveLength(1))
  expect(refused.acks(before[1])).toEqual([])
  expect(transactions).toBe(1)
  // One fan-out frame carries both changes, to the reader and to every sender (its own
  // changes with the others': Yjs skips what a document has).
  const entries = (doc: Y.Doc): unknown[] => doc.getArray('root').toJSON()
  await eventually(() => expect(entries(reader.mirror)).toHaveLength(2))
  const fanOut = (client: RawClient, from: number): number =>
    client.frames.slice(from).filter((frame) => frame.type === MessageType.sync).length
  expect(fanOut(reader, readerBefore)).toBe(1)
  for (const [i, writer] of writers.entries()) {
    await eventually(() => expect(entries(writer.mirror)).toEqual(entries(reader.mirror)))
    expect(fanOut(writer, before[i]!)).toBe(1)
  }
  // One entry in the log: a fresh client loads both changes.
  await room.whenPersisted()
  const fresh = connect(relay.url)
  cleanups.push(() => fresh.close())
  const loaded = fresh.memory('turn')
  await eventually(() => expect(loaded.toJSON()).toEqual({ a: 1, c: 3 }))
})
