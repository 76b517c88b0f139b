/**
 * Each of the relay's limits, hit on purpose: connections per address and allowed origins
 * (refused at the upgrade), memories per connection (ERROR tooManyMemories), messages and
 * bytes per second (the connection is read more slowly; nothing is dropped), and document
 * size per memory (ERROR memoryTooLarge; deletions still pass).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RefusedError } from '@remem/client'
import { ErrorCode, MessageType, encodeMessage } from '@remem/client/protocol'
import { DEFAULT_LIMITS, type RelayHandle, type RelayOptions } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { metric } from './promText.ts'
import { RawClient, entryUpdate, syncStep1, updateFrame } from './rawClient.ts'
import { startRedis } from './redisServer.ts'

const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayWith(options: RelayOptions): Promise<RelayHandle> {
  const relay = await startRelay(options)
  cleanups.push(() => relay.close())
  return relay
}

async function raw(url: string, options: { origin?: string } = {}): Promise<RawClient> {
  const client = await RawClient.open(url, options)
  cleanups.push(() => client.close())
  return client
}

const ping = encodeMessage({ type: MessageType.ping, name: '' })

it('documents its defaults', () => {
  expect(DEFAULT_LIMITS).toEqual({
    maxConnectionsPerIp: 256,
    maxMemoriesPerConnection: 100,
    maxMessagesPerSecond: 5_000,
    maxBytesPerSecond: 16 * 1024 * 1024,
    maxMemoryBytes: 64 * 1024 * 1024,
    maxBufferedBytes: 8 * 1024 * 1024,
    allowedOrigins: null,
  })
})

it('refuses limits that cannot work, naming the option', async () => {
  await expect(startRelay({ maxMessagesPerSecond: 0 })).rejects.toThrow(
    /maxMessagesPerSecond must be a positive number/,
  )
  await expect(startRelay({ maxMemoryBytes: -1 })).rejects.toThrow(/maxMemoryBytes/)
  await expect(
    startRelay({ allowedOrigins: 'https://a.example' as unknown as string[] }),
  ).rejects.toThrow(/allowedOrigins/)
})

describe('at the upgrade', () => {
  it('maxConnectionsPerIp: one more connection from the address gets HTTP 429; closing one makes room', async () => {
    const relay = await relayWith({ maxConnectionsPerIp: 3 })
    const open = [await raw(relay.url), await raw(relay.url), await raw(relay.url)]
    await expect(RawClient.open(relay.url)).rejects.toMatchObject({ status: 429 })
    expect(relay.relay.sessions.size).toBe(3)
    expect(await metric(relay, 'remem_refusals_total', { reason: 'tooManyConnections' })).toBe(1)
    open[0]!.close()
    await eventually(() => expect(relay.relay.sessions.size).toBe(2))
    const again = await raw(relay.url)
    expect(await again.barrier()).toBeNull()
  })

  it('allowedOrigins: another origin gets HTTP 403; listed origins and clients without Origin connect', async () => {
    const relay = await relayWith({ allowedOrigins: ['https://app.example.com'] })
    await expect(
      RawClient.open(relay.url, { origin: 'https://evil.example.com' }),
    ).rejects.toMatchObject({ status: 403 })
    await expect(
      RawClient.open(relay.url, { origin: 'https://app.example.com.evil.example' }),
    ).rejects.toMatchObject({
      status: 403,
    })
    const listed = await raw(relay.url, { origin: 'https://APP.example.com/' })
    expect(await listed.barrier()).toBeNull()
    const nodeClient = await raw(relay.url)
    expect(await nodeClient.barrier()).toBeNull()
    expect(relay.relay.sessions.size).toBe(2)
    expect(await metric(relay, 'remem_refusals_total', { reason: 'originNotAllowed' })).toBe(2)
  })
})

describe('per connection', () => {
  it('maxMemoriesPerConnection: one more memory gets ERROR tooManyMemories and loads nothing; CLOSE makes room', async () => {
    const relay = await relayWith({ maxMemoriesPerConnection: 3 })
    const client = await raw(relay.url)
    for (const name of ['m1', 'm2', 'm3']) {
      expect(await client.request(name)).toMatchObject({
        type: MessageType.access,
        access: 'write',
      })
    }
    expect(await client.request('m4')).toMatchObject({
      type: MessageType.error,
      code: ErrorCode.tooManyMemories,
    })
    expect(relay.relay.rooms.has('m4')).toBe(false)
    // A memory already open does not count twice.
    expect(await client.request('m2')).toMatchObject({ type: MessageType.access })
    client.send(encodeMessage({ type: MessageType.close, name: 'm1' }))
    expect(await client.request('m4')).toMatchObject({ type: MessageType.access, access: 'write' })
    // Another connection has its own budget.
    const other = await raw(relay.url)
    expect(await other.request('m5')).toMatchObject({ type: MessageType.access })
  })

  it('maxMessagesPerSecond: a burst past the budget is read at the budget, nothing dropped; others are not slowed', async () => {
    const relay = await relayWith({ maxMessagesPerSecond: 50 })
    const flooder = await raw(relay.url)
    const bystander = await raw(relay.url)
    const started = performance.now()
    const arrivals: number[] = []
    flooder.socket.on('message', () => arrivals.push(performance.now() - started))
    for (let i = 0; i < 150; i++) flooder.send(ping)
    await sleep(100)
    const answeredBefore = performance.now()
    bystander.send(ping)
    await bystander.until(() => bystander.frames.find((f) => f.type === MessageType.pong), 'PONG')
    expect(performance.now() - answeredBefore).toBeLessThan(200)
    const pongs = () => flooder.frames.filter((f) => f.type === MessageType.pong).length
    await flooder.until(() => (pongs() === 150 ? true : undefined), '150 PONGs', 10_000)
    // A burst of twice the rate passes at once (plus 15 refilled in 300 ms); the rest take
    // about a second.
    expect(arrivals.filter((t) => t < 300).length).toBeGreaterThanOrEqual(95)
    expect(arrivals.filter((t) => t < 300).length).toBeLessThanOrEqual(120)
    expect(arrivals.at(-1)).toBeGreaterThan(800)
    expect(flooder.closed).toBeNull()
    expect(await metric(relay, 'remem_throttled_total')).toBeGreaterThan(0)
  })

  it('maxBytesPerSecond: large frames past the budget are read at the budget, in order', async () => {
    const relay = await relayWith({ maxBytesPerSecond: 16 * 1024, maxFrameBytes: 32 * 1024 })
    const client = await raw(relay.url)
    const started = performance.now()
    const answers: Array<{ name: string; at: number }> = []
    client.socket.on('message', () => {
      const last = client.frames.at(-1)
      if (last?.type === MessageType.error)
        answers.push({ name: last.name, at: performance.now() - started })
    })
    // Invalid names (too long) are answered at once, so the answers time the reads.
    for (let i = 0; i < 6; i++) client.send(syncStep1(`${i}`.repeat(8 * 1024 - 16), new Y.Doc()))
    await client.until(
      () => (client.errors().length === 6 ? true : undefined),
      'six answers',
      10_000,
    )
    expect(answers.map((a) => a.name[0])).toEqual(['0', '1', '2', '3', '4', '5'])
    // 32 KiB of burst: four at once; the last two take about a second at 16 KiB/s.
    expect(answers.filter((a) => a.at < 300)).toHaveLength(4)
    expect(answers.at(-1)!.at).toBeGreaterThan(800)
  })
})

describe('per memory', () => {
  it('maxMemoryBytes: an update that would grow the memory past it gets ERROR memoryTooLarge; deletions still pass', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const limit = 16 * 1024
    const relay = await relayWith({ redis: redis.url, maxMemoryBytes: limit })
    const writer = connect(relay.url)
    cleanups.push(() => writer.close())
    const mem = writer.memory('big')
    let written = 0
    for (; written < 40; written++) {
      mem.set(`k${written}`, 'x'.repeat(1000))
      await eventually(() => mem.status.pending === 0 || writer.errors.length > 0)
      if (writer.errors.length > 0) break
    }
    await eventually(() => expect(writer.errors).not.toEqual([]))
    expect(writer.errors[0]).toBeInstanceOf(RefusedError)
    expect(writer.errors[0]).toMatchObject({ reason: 'memoryTooLarge' })
    expect(written).toBeGreaterThan(5)
    expect(written).toBeLessThan(20)
    const room = relay.relay.rooms.get('big')!
    await room.whenPersisted()
    expect(Y.encodeStateAsUpdate(room.doc).byteLength).toBeLessThanOrEqual(limit)
    const stored = (await readMemoryFromRedis(redis.url, 'big')).json
    expect(stored).not.toHaveProperty(`k${written}`)
    expect(Object.keys(stored).length).toBe(written)

    // Another connection may still delete, and new content that fits is taken again after.
    const cleaner = await raw(relay.url)
    await cleaner.subscribe('big')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(cleaner.mirror))
    const before = Y.encodeStateVector(doc)
    doc.getArray('root').delete(0, 8)
    cleaner.send(updateFrame('big', 1, Y.encodeStateAsUpdate(doc, before)))
    await cleaner.until(
      () => (cleaner.acks().includes(1) ? true : undefined),
      'ACK of the deletion',
    )
    await sleep(1_100) // the size is measured again at most once a second
    cleaner.send(
      updateFrame('big', 2, entryUpdate(31_337, cleaner.mirror, 'fits', 'x'.repeat(1000))),
    )
    await cleaner.until(() => (cleaner.acks().includes(2) ? true : undefined), 'ACK of new content')
    expect(cleaner.refusals()).toEqual([])
  })
})
