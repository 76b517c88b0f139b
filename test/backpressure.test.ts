/**
 * What clients can make the relay hold: a client that stops reading is closed with 4408
 * once more than `maxBufferedBytes` wait for it (the relay's buffer for it never grows past
 * that plus one frame), and a storm of 1,000 clients connecting, writing and vanishing at
 * once, twice, leaves no documents, sessions, timers or document listeners behind.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CloseCode } from '@remem/client/protocol'
import type { RelayHandle } from '@remem/server'
import { connect, eventually, startRelay } from './helpers.ts'
import { metric } from './promText.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'

type Session = RelayHandle['relay']['sessions'] extends Set<infer S> ? S : never

const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayWith(options: Parameters<typeof startRelay>[0]): Promise<RelayHandle> {
  const relay = await startRelay(options)
  cleanups.push(() => relay.close())
  return relay
}

describe('a client that stops reading', () => {
  it('is closed with 4408 past maxBufferedBytes; what the relay buffers for it stays bounded', async () => {
    const limit = 256 * 1024
    const valueBytes = 64 * 1024
    const relay = await relayWith({ maxBufferedBytes: limit, compactAfter: 50 })
    const writer = await RawClient.open(relay.url)
    cleanups.push(() => writer.close())
    await writer.subscribe('feed')
    const known = new Set(relay.relay.sessions)
    const reader = await RawClient.open(relay.url)
    cleanups.push(() => reader.close())
    await reader.subscribe('feed')
    const session = [...relay.relay.sessions].find((s) => !known.has(s)) as Session
    // Record what waits for the reader after every frame the relay sends it.
    let maxBuffered = 0
    const send = session.socket.send.bind(session.socket) as (data: Uint8Array) => void
    session.socket.send = ((data: Uint8Array) => {
      send(data)
      maxBuffered = Math.max(maxBuffered, session.socket.bufferedAmount)
    }) as typeof session.socket.send
    reader.socket.pause()

    // The writer overwrites one value with 64 KiB strings until the reader is dropped.
    const doc = new Y.Doc()
    doc.clientID = 77_001
    const root = doc.getArray<unknown>('root')
    let seq = 0
    let sent = 0
    while (session.socket.readyState === session.socket.OPEN && seq < 2_000) {
      const before = Y.encodeStateVector(doc)
      doc.transact(() => {
        if (root.length > 0) root.delete(0, 1)
        root.push([{ k: 'blob', v: `${seq}`.padEnd(valueBytes, 'x') }])
      })
      const update = Y.encodeStateAsUpdate(doc, before)
      writer.send(updateFrame('feed', ++seq, update))
      sent += update.byteLength
      if (seq % 8 === 0)
        await writer.until(() => (writer.acks().includes(seq) ? true : undefined), `ACK ${seq}`)
    }
    expect(session.socket.readyState).not.toBe(session.socket.OPEN)
    // Kernel buffers took the first megabytes; then the relay's own buffer grew to the limit.
    expect(sent).toBeGreaterThan(limit)
    expect(maxBuffered).toBeGreaterThan(limit)
    expect(maxBuffered).toBeLessThanOrEqual(limit + 2 * valueBytes)
    await eventually(() => expect(relay.relay.sessions.has(session)).toBe(false), {
      timeoutMs: 5_000,
    })
    expect(await metric(relay, 'remem_refusals_total', { reason: 'slowConsumer' })).toBe(1)
    reader.socket.resume()
    const closed = await reader.whenClosed()
    // The close frame waits behind what the reader never read; the relay then cuts the socket.
    expect([CloseCode.slowConsumer, 1006]).toContain(closed.code)

    // Everyone else carries on.
    const fresh = connect(relay.url)
    cleanups.push(() => fresh.close())
    await eventually(() =>
      expect(String(fresh.memory('feed').get('blob')).startsWith(`${seq - 1}`)).toBe(true),
    )
    expect(writer.closed).toBeNull()
  })
  it('a memory larger than maxBufferedBytes still reaches a client that reads', async () => {
    const relay = await relayWith({ maxBufferedBytes: 64 * 1024 })
    const writer = connect(relay.url)
    cleanups.push(() => writer.close())
    const big = writer.memory('big')
    for (let i = 0; i < 4; i++) big.set(`blob${i}`, 'x'.repeat(200 * 1024))
    await big.whenSynced()
    const reader = await RawClient.open(relay.url)
    cleanups.push(() => reader.close())
    await reader.subscribe('big')
    expect(reader.closed).toBeNull()
    expect(reader.mirror.getArray('root').length).toBe(4)
  })
})

describe('a reconnect storm', () => {
  const CLIENTS = 1_000
  const MEMORIES = 10

  /** `CLIENTS` raw clients at once, each opening one memory and writing one value. */
  async function wave(relay: RelayHandle, round: number): Promise<RawClient[]> {
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const client = await RawClient.open(relay.url, { mirror: false })
        const name = `storm-${i % MEMORIES}`
        await client.subscribe(name, 100_000 * round + i)
        // Inserted at the start of the list: it needs nothing the client would have to read.
        client.send(
          updateFrame(name, 1, entryUpdate(100_000 * round + i, new Y.Doc(), `c${i}`, round)),
        )
        return client
      }),
    )
    await Promise.all(
      clients.map((c) => c.until(() => (c.acks().includes(1) ? true : undefined), 'ACK', 20_000)),
    )
    return clients
  }

  const timers = (): number =>
    process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  const updateListeners = (relay: RelayHandle): number[] =>
    [...relay.relay.rooms.values()].map(
      (room) =>
        (room.doc as unknown as { _observers: Map<string, Set<unknown>> })._observers.get('update')
          ?.size ?? 0,
    )
  const internals = (relay: RelayHandle) =>
    relay.relay as unknown as { opening: Map<string, unknown>; unloadTimers: Map<string, unknown> }

  it('1,000 clients writing and vanishing at once, twice, leave nothing behind', async () => {
    const relay = await relayWith({ idleUnloadMs: 300, maxConnectionsPerIp: 0 })
    // One client first: what one loaded memory holds.
    const single = await RawClient.open(relay.url)
    await single.subscribe('storm-0')
    const listenersOfOne = updateListeners(relay)[0]!
    single.close()
    await eventually(() => expect(relay.relay.rooms.size).toBe(0))
    const baseline = { timers: timers() }

    for (const round of [1, 2]) {
      const clients = await wave(relay, round)
      expect(relay.relay.sessions.size).toBe(CLIENTS)
      expect(relay.relay.rooms.size).toBe(MEMORIES)
      // Listeners do not grow with sessions.
      expect(updateListeners(relay)).toEqual(Array.from({ length: MEMORIES }, () => listenersOfOne))
      for (const client of clients) client.close()
      await eventually(() => expect(relay.relay.sessions.size).toBe(0), { timeoutMs: 10_000 })
      for (const room of relay.relay.rooms.values()) {
        expect(room.sessions.size).toBe(0)
        expect(room.clientIds.size).toBe(0)
      }
    }
    await eventually(() => expect(relay.relay.rooms.size).toBe(0), { timeoutMs: 10_000 })
    expect(internals(relay).opening.size).toBe(0)
    expect(internals(relay).unloadTimers.size).toBe(0)
    expect(relay.relay.connections.addresses).toBe(0)
    await eventually(() => expect(timers()).toBeLessThanOrEqual(baseline.timers))
    // Every write of both waves is there when the memories load again.
    const check = connect(relay.url)
    cleanups.push(() => check.close())
    const memory = check.memory('storm-3')
    await eventually(() => expect(memory.keys().length).toBe(CLIENTS / MEMORIES))
  })
})
