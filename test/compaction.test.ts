/**
 * Compaction: 50,000 updates streamed into one memory keep its log under a bound that follows
 * from the relay's settings, and a cold relay loads the memory from a small snapshot plus a
 * log no longer than that bound. Once on a real redis-server, once on the embedded store.
 *
 * The updates are the ones a client's `mem.set` makes (the shared `dictSet` on a Yjs
 * document), sent by a bare protocol writer as 50,000 UPDATE frames. A full client would
 * spend most of the run on its own per-set work (0.4–1.3 ms a set on a 2-core machine),
 * which is not what this test measures.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { MessageType, decodeMessage, dictSet, encodeMessage, getRoot } from '@remem/client/protocol'
import { EmbeddedStore, RedisStore, type Store } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, startRelay, wrapStore } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const UPDATES = 50_000
const KEYS = 10
/**
 * Updates sent before waiting for their acknowledgement. Every window needs at least one
 * append, so the log receives at least UPDATES / WINDOW entries: several times the bound.
 */
const WINDOW = 16

/** The relay's default `compactAfter`: compaction starts once an append leaves this many entries. */
const COMPACT_AFTER = 500
/** The relay's `maxBatch`: the most queued updates one store append carries. */
const MAX_BATCH = 256
/**
 * The bound on the log length. Compaction starts as soon as an append leaves COMPACT_AFTER
 * entries and trims everything up to the last entry the room has applied, so the log passes
 * COMPACT_AFTER only by what is appended while that compaction runs. One append adds at most
 * MAX_BATCH entries (today the room merges its batch into one entry), and a compaction takes
 * about as long as one or two appends. Allowing one full batch past COMPACT_AFTER is a wide
 * margin (the log peaks at about COMPACT_AFTER here), and far below what a compaction that
 * stopped trimming would leave: every window below appends, so the log would grow past
 * UPDATES / WINDOW entries.
 */
const LOG_BOUND = COMPACT_AFTER + MAX_BATCH
/** A cold load reads one snapshot; for KEYS small numbers it must stay small. */
const SNAPSHOT_BOUND = 64 * 1024

/** The memory after the stream: key k<j> holds the last i with i % KEYS === j. */
const expected = Object.fromEntries(
  Array.from({ length: KEYS }, (_, j) => [`k${j}`, UPDATES - KEYS + j]),
)

interface Observed {
  /** Log length after every append, as the store reports it. */
  maxLogLength: number
  appends: number
  compactions: number
}

/** `store`, reporting what appends and compactions did. */
function observed(store: Store): { store: Store; seen: Observed } {
  const seen: Observed = { maxLogLength: 0, appends: 0, compactions: 0 }
  return {
    seen,
    store: wrapStore(store, {
      append: async (name, updates, relayId) => {
        const result = await store.append(name, updates, relayId)
        seen.appends++
        seen.maxLogLength = Math.max(seen.maxLogLength, result.logLength)
        return result
      },
      compact: async (name, snapshot, uptoId) => {
        const done = await store.compact(name, snapshot, uptoId)
        if (done) seen.compactions++
        return done
      },
    }),
  }
}

/** What one `load` returned: log entries and snapshot size. */
interface Load {
  entries: number
  snapshotBytes: number
}

/** `store`, reporting the size of every load (what a cold relay reads). */
function loadRecording(store: Store): { store: Store; loads: Load[] } {
  const loads: Load[] = []
  return {
    loads,
    store: wrapStore(store, {
      load: async (name) => {
        const stored = await store.load(name)
        loads.push({
          entries: stored.entries.length,
          snapshotBytes: stored.snapshot?.byteLength ?? 0,
        })
        return stored
      },
    }),
  }
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A bare protocol client for one memory: subscribes (SYNC step 1), sends UPDATE frames and
 * waits for their acknowledgement. Ignores the changes the relay sends it.
 */
class Writer {
  private acked = 0
  private waiter: { seq: number; resolve: () => void; reject: (error: Error) => void } | null = null
  readonly refusals: string[] = []

  private constructor(
    private readonly socket: WebSocket,
    private readonly name: string,
  ) {
    socket.on('message', (data: Buffer) => {
      const message = decodeMessage(new Uint8Array(data))
      if (message.type === MessageType.ack) this.acked = Math.max(this.acked, message.seq)
      if (message.type === MessageType.error) this.refusals.push(message.message)
      const waiter = this.waiter
      if (!waiter) return
      if (this.refusals.length > 0) waiter.reject(new Error(`refused: ${this.refusals.join('; ')}`))
      else if (this.acked >= waiter.seq) waiter.resolve()
      else return
      this.waiter = null
    })
  }

  static async open(url: string, name: string): Promise<Writer> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep1(encoder, new Y.Doc())
    socket.send(
      encodeMessage({ type: MessageType.sync, name, payload: encoding.toUint8Array(encoder) }),
    )
    return new Writer(socket, name)
  }

  send(seq: number, update: Uint8Array): void {
    this.socket.send(encodeMessage({ type: MessageType.update, name: this.name, seq, update }))
  }

  /** Resolves once everything up to `seq` is acknowledged; rejects on a refusal. */
  until(seq: number): Promise<void> {
    if (this.acked >= seq) return Promise.resolve()
    return new Promise((resolve, reject) => (this.waiter = { seq, resolve, reject }))
  }

  close(): void {
    this.socket.terminate()
  }
}

let cached: Uint8Array[] | null = null

/** The updates `mem.set('k<i % KEYS>', i)` makes for i < UPDATES, one per set (made once). */
function updates(): Uint8Array[] {
  if (cached) return cached
  const doc = new Y.Doc({ gc: true })
  const root = getRoot(doc)
  const all: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => all.push(update))
  for (let i = 0; i < UPDATES; i++) doc.transact(() => dictSet(root, `k${i % KEYS}`, i))
  doc.destroy()
  return (cached = all)
}

/**
 * Streams UPDATES writes of KEYS keys into memory `name` through `url`, as UPDATE frames,
 * waiting for the acknowledgement every WINDOW frames; calls `sample` every few windows.
 */
async function stream(url: string, name: string, sample: () => Promise<void>): Promise<void> {
  const writer = await Writer.open(url, name)
  cleanups.push(async () => writer.close())
  const made = updates()
  for (let i = 0; i < UPDATES; i++) {
    writer.send(i + 1, made[i]!)
    if ((i + 1) % WINDOW !== 0) continue
    await writer.until(i + 1)
    if ((i + 1) % (WINDOW * 10) === 0) await sample()
  }
  await writer.until(UPDATES)
  expect(writer.refusals).toEqual([])
}

/**
 * A relay with nothing loaded and a client new to the memory: resolves once the client holds
 * the whole memory, with how long that took (recorded, never asserted: the machine is noisy).
 */
async function coldLoad(store: Store, name: string): Promise<number> {
  const started = performance.now()
  const relay = await startRelay({ store })
  cleanups.push(() => relay.close())
  expect(relay.relay.rooms.size).toBe(0)
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const mem = client.memory(name)
  await eventually(() => expect(mem.toJSON()).toEqual(expected), { timeoutMs: 20_000 })
  return performance.now() - started
}

/** What streaming did to the log: bounded throughout, and compacted again and again. */
function expectBoundedLog(seen: Observed, sampledLengths: number[]): void {
  // Without compaction the log would hold every append: far past the bound.
  expect(seen.appends).toBeGreaterThan(2 * LOG_BOUND)
  expect(seen.compactions).toBeGreaterThanOrEqual(seen.appends / (2 * COMPACT_AFTER))
  expect(seen.maxLogLength).toBeLessThanOrEqual(LOG_BOUND)
  expect(sampledLengths.length).toBeGreaterThan(UPDATES / (WINDOW * 10))
  expect(Math.max(...sampledLengths)).toBeLessThanOrEqual(LOG_BOUND)
}

/** What the cold relay read: one small snapshot and a log within the bound. */
function expectSmallLoads(loads: Load[]): void {
  expect(loads.length).toBeGreaterThanOrEqual(1)
  for (const load of loads) {
    expect(load.entries).toBeLessThanOrEqual(LOG_BOUND)
    expect(load.snapshotBytes).toBeGreaterThan(0)
    expect(load.snapshotBytes).toBeLessThan(SNAPSHOT_BOUND)
  }
}

declare module 'vitest' {
  interface TaskMeta {
    /** Milliseconds from starting a relay to a new client holding the memory. */
    coldLoadMs?: number
  }
}

const title = `streams ${UPDATES} updates with the log within ${LOG_BOUND} entries, then loads cold from a small snapshot`

describe('on Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis.stop()
  })

  it(title, async ({ task }) => {
    const name = 'compaction'
    const plain = new Redis(redis.url)
    cleanups.push(async () => plain.disconnect())
    const inner = await RedisStore.connect({ redis: redis.url })
    cleanups.push(() => inner.close())
    const { store, seen } = observed(inner)
    const relay = await startRelay({ store })
    cleanups.push(() => relay.close())

    const xlens: number[] = []
    const sample = async (): Promise<void> => {
      xlens.push(await plain.xlen(`remem:{memory:${name}}:log`))
    }
    await stream(relay.url, name, sample)
    await relay.relay.rooms.get(name)?.whenPersisted()
    await sample()
    expectBoundedLog(seen, xlens)

    // Read with plain commands, as any cold reader would.
    const fromRedis = await readMemoryFromRedis(redis.url, name)
    expect(fromRedis.json).toEqual(expected)
    expect(fromRedis.logLength).toBeLessThanOrEqual(LOG_BOUND)
    const snapshot = await plain.getBuffer(`remem:{memory:${name}}:snapshot`)
    expect(snapshot).not.toBeNull()
    expect(snapshot!.byteLength).toBeLessThan(SNAPSHOT_BOUND)

    // A new relay with its own store connection and no rooms, and a new client.
    const fresh = await RedisStore.connect({ redis: redis.url })
    cleanups.push(() => fresh.close())
    const { store: recording, loads } = loadRecording(fresh)
    task.meta.coldLoadMs = await coldLoad(recording, name)
    expectSmallLoads(loads)
  })
})

describe('on the embedded store', () => {
  it(title, async ({ task }) => {
    const name = 'compaction'
    const embedded = new EmbeddedStore()
    cleanups.push(() => embedded.close())
    const { store, seen } = observed(embedded)
    const relay = await startRelay({ store })
    cleanups.push(() => relay.close())

    const lengths: number[] = []
    const sample = async (): Promise<void> => {
      lengths.push((await embedded.load(name)).entries.length)
    }
    await stream(relay.url, name, sample)
    await relay.relay.rooms.get(name)?.whenPersisted()
    await sample()
    expectBoundedLog(seen, lengths)

    // A second relay on the same store stands for a restarted one: nothing loaded.
    const { store: recording, loads } = loadRecording(embedded)
    task.meta.coldLoadMs = await coldLoad(recording, name)
    expectSmallLoads(loads)
  })
})
