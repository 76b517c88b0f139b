/**
 * Appends of several memories in one turn share one script call (AppendBatch), and each
 * memory is still acknowledged only after its own append: a memory whose append fails in
 * the shared call is not acknowledged, does not hold back or lose the other's, and is
 * acknowledged once its retry succeeds.
 */
import type { Socket } from 'node:net'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { MessageType } from '@remem/client/protocol'
import { eventually, startRelay } from './helpers.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'
import { useRedisFile } from './redisFile.ts'

const file = useRedisFile()

it('acks each memory of a shared append call after its own append only', async () => {
  const relay = await startRelay({ redis: file.server.url, idleUnloadMs: 60_000 })
  file.cleanups.push(() => relay.close())
  const writer = await RawClient.open(relay.url, { mirror: false })
  file.cleanups.push(async () => writer.close())
  await writer.subscribe('good', 4242)
  await writer.subscribe('bad', 4242)
  // Loaded; from now on the bad memory's log is a string: its appends fail (WRONGTYPE).
  await file.redis.set('remem:{memory:bad}:log', 'not a stream')
  const acks = (name: string): number[] =>
    writer.frames.flatMap((frame) => (frame.type === MessageType.ack && frame.name === name ? [frame.seq] : []))

  const monitor = await new Redis(file.server.url).monitor()
  file.cleanups.push(async () => monitor.disconnect())
  const scriptCalls: number[] = []
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && /^eval/i.test(args[0] ?? '')) scriptCalls.push(Number(args[2]))
  })
  await file.redis.ping()

  // Both UPDATEs in one TCP write: the relay handles them in one turn.
  const tcp = (writer.socket as unknown as { _socket: Socket })._socket
  tcp.cork()
  writer.send(updateFrame('good', 1, entryUpdate(4242, new Y.Doc(), 'g', 1)))
  writer.send(updateFrame('bad', 1, entryUpdate(4242, new Y.Doc(), 'b', 1)))
  tcp.uncork()

  await writer.until(() => (acks('good').includes(1) ? true : undefined), 'ACK 1 of good')
  // The two appends went as one call (3 keys each; MONITOR may list it after the reply), and
  // the good one is in Redis.
  await eventually(() => expect(scriptCalls[0]).toBe(6))
  expect(await file.redis.xlen('remem:{memory:good}:log')).toBe(1)
  expect(await writer.barrier()).toBeNull()
  expect(acks('bad')).toEqual([])
  expect(relay.relay.rooms.get('bad')!.pendingWrites).toBeGreaterThan(0)

  // Repaired: the retry appends it, and only then is it acknowledged.
  await file.redis.del('remem:{memory:bad}:log')
  await writer.until(() => (acks('bad').includes(1) ? true : undefined), 'ACK 1 of bad', 10_000)
  expect(await file.redis.xlen('remem:{memory:bad}:log')).toBe(1)
  await eventually(() => expect(relay.relay.rooms.get('bad')!.pendingWrites).toBe(0))
  expect(acks('good')).toEqual([1])
})
