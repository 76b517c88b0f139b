/**
 * Seeded random convergence, in the manner of Yjs's TestConnector. Per seed, 3–5 clients on
 * 1–2 relays on a real redis-server make random edits across the whole API while
 * - client sockets drop, some staying offline for a while, and partitions cut off everyone
 *   on one relay long enough for it to unload the memory;
 * - relay → client changes are held back (delivered later, out of order) or delivered twice;
 * - a chaos peer on each relay sends captured updates again as its own UPDATE frames, some
 *   racing the original to the other relay, some in shuffled bursts (refusals are fine);
 * - the broadcast between relays delivers some messages late, out of order, or twice;
 * - relays compact every few dozen entries, so catching up often means a snapshot.
 * At the end every client, every relay, a fresh load from Redis (log and snapshot, and the
 * plain projection keys) and a new client on a new relay hold the same memory, and nothing
 * reported an error.
 *
 * The seed fixes the topology and the sequence of decisions; timing still varies from run to
 * run (real sockets), so a failing seed is a strong hint, not an exact replay.
 *
 * REMEM_SEEDS=n runs seeds 1..n (default 20); REMEM_SEED=k runs seed k only.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  type Memory,
  type RememClient,
  type WebSocketConstructor,
  type WebSocketLike,
  SyncedDict,
  SyncedList,
} from '@remem/client'
import { MessageType, decodeMessage, docToJSON, encodeMessage } from '@remem/client/protocol'
import { type Logger, type RelayHandle, type Store, RedisStore } from '@remem/server'
import {
  connect,
  eventually,
  readMemoryFromRedis,
  sleep,
  startRelay,
  wrapStore,
} from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const seeds = process.env.REMEM_SEED
  ? [Number(process.env.REMEM_SEED)]
  : Array.from({ length: Number(process.env.REMEM_SEEDS ?? 20) }, (_, i) => i + 1)

let redis: RedisServer
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it.each(seeds)('seed %i: every copy ends identical', async (seed) => {
  const rng = new Rng(seed)
  const name = `convergence-${seed}`
  const relayErrors: string[] = []
  const logger: Logger = {
    info() {},
    warn() {},
    error: (message, data) => relayErrors.push(`${message} ${JSON.stringify(data)}`),
  }
  // Small logs, so that relays compact, and catch up from snapshots, many times per seed.
  const compactAfter = 2 + rng.int(40)
  const broadcasts: FlakyBroadcast[] = []
  const relays: RelayHandle[] = []
  for (let i = 0, count = rng.chance(0.65) ? 2 : 1; i < count; i++) {
    const store = await RedisStore.connect({ redis: redis.url })
    cleanups.push(() => store.close())
    const broadcast = new FlakyBroadcast(new Rng(seed * 1000 + 100 + i))
    cleanups.push(async () => broadcast.stop())
    broadcasts.push(broadcast)
    const relay = await startRelay({ store: broadcast.wrap(store), compactAfter, logger })
    cleanups.push(() => relay.close())
    relays.push(relay)
  }
  const peers = relays.map((relay) => new ChaosPeer(relay.url, name))
  for (const peer of peers) cleanups.push(async () => peer.close())
  const chaos = new Chaos(new Rng(seed * 1000), peers)
  cleanups.push(async () => chaos.stop())
  const nets: FlakyNetwork[] = []
  const clients: Array<RememClient & { errors: Error[] }> = []
  const relayOf: number[] = []
  for (let i = 0, count = 3 + rng.int(3); i < count; i++) {
    const net = new FlakyNetwork(new Rng(seed * 1000 + i + 1), chaos)
    cleanups.push(async () => net.stop())
    const client = connect(relays[i % relays.length]!.url, { WebSocket: net.WebSocket })
    cleanups.push(() => client.close())
    nets.push(net)
    clients.push(client)
    relayOf.push(i % relays.length)
  }
  const mems = clients.map((client) => client.memory(name))

  for (let step = 0, steps = 100 + rng.int(100); step < steps; step++) {
    const roll = rng.next()
    if (roll < 0.6) {
      randomOperation(rng, rng.pick(mems))
    } else if (roll < 0.7) {
      const mem = rng.pick(mems)
      mem.transact(() => {
        for (let i = 2 + rng.int(3); i > 0; i--) randomOperation(rng, mem)
      })
    } else if (roll < 0.75) {
      rng.pick(nets).drop(rng.chance(0.5) ? 0 : rng.int(300))
    } else if (roll < 0.77) {
      // A partition: everyone on one relay goes offline long enough for it to unload the memory.
      const cut = rng.int(relays.length)
      const ms = 250 + rng.int(400)
      for (const [i, net] of nets.entries()) if (relayOf[i] === cut) net.drop(ms)
      peers[cut]!.pause(ms)
    } else if (roll < 0.85) {
      chaos.burst()
    } else {
      await sleep(rng.int(25))
    }
    if (rng.chance(0.3)) await sleep(0)
  }

  chaos.stop()
  for (const net of nets) net.heal()
  for (const broadcast of broadcasts) broadcast.heal()
  await eventually(() => mems.every((mem) => mem.status.connection === 'online'), {
    timeoutMs: 10_000,
  })
  await within(Promise.all(mems.map((mem) => mem.whenSynced())), 10_000, 'every client synced')
  let stored: unknown
  await eventually(
    async () => {
      stored = (await readMemoryFromRedis(redis.url, name)).json
      for (const [i, mem] of mems.entries()) expect(mem.toJSON(), `client ${i}`).toEqual(stored)
      for (const [i, relay] of relays.entries()) {
        const room = relay.relay.rooms.get(name)
        expect(room, `relay ${i} has the memory loaded`).toBeDefined()
        expect(docToJSON(room!.doc), `relay ${i}`).toEqual(stored)
      }
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  )

  // The plain keys (what redis-cli or Python's redis-memory read) hold the same values, and
  // no relay took another relay's projection writes for external ones.
  await eventually(async () => expect(await readProjection(name)).toEqual(stored), {
    timeoutMs: 10_000,
    intervalMs: 50,
  })
  for (const [i, relay] of relays.entries()) {
    expect(relay.relay.stats.ingests, `ingests on relay ${i}`).toBe(0)
  }

  // A new relay (nothing loaded) and a new client see the same.
  const fresh = await startRelay({ redis: redis.url, logger })
  cleanups.push(() => fresh.close())
  const late = connect(fresh.url)
  cleanups.push(() => late.close())
  const lateMem = late.memory(name)
  await eventually(() => expect(lateMem.toJSON()).toEqual(stored), { timeoutMs: 10_000 })

  expect(relayErrors).toEqual([])
  for (const [i, client] of clients.entries()) {
    expect(client.errors.map(String), `errors reported to client ${i}`).toEqual([])
  }
})

/** mulberry32: a tiny seeded PRNG, good enough to pick test operations. */
class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer from 0 to n - 1. */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  sample<T>(items: readonly T[], count: number): T[] {
    return Array.from({ length: Math.min(count, items.length) }, () => this.pick(items))
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      ;[items[i], items[j]] = [items[j]!, items[i]!]
    }
    return items
  }
}

// ---------------------------------------------------------------------------------------
// Random operations, always valid for the local state they run on.

const KEYS = ['a', 'b', 'c', 'd', 'list', 'obj', 'n']

function randomPrimitive(rng: Rng): null | boolean | number | string {
  switch (rng.int(6)) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.int(1000) - 500
    case 3:
      return Math.round(rng.next() * 1e6) / 1e3
    case 4:
      return rng.pick(['', 'x', 'héllo', '🙂', 'a b'])
    default:
      return `s${rng.int(100)}`
  }
}

function randomValue(rng: Rng, depth = 0): unknown {
  const roll = rng.next()
  if (depth >= 2 || roll < 0.55) return randomPrimitive(rng)
  if (roll < 0.78) return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1))
  const object: Record<string, unknown> = {}
  for (let i = rng.int(4); i > 0; i--) object[rng.pick(KEYS)] = randomValue(rng, depth + 1)
  return object
}

/** A dict or list of `mem`, reached by a short random walk from the root. */
function randomContainer(rng: Rng, mem: Memory): SyncedDict | SyncedList {
  let node: SyncedDict | SyncedList = mem
  for (let depth = 0; depth < 3 && rng.chance(0.6); depth++) {
    const children: Array<SyncedDict | SyncedList> = (
      node instanceof SyncedDict ? node.values() : node.toArray()
    ).filter(
      (value): value is SyncedDict | SyncedList =>
        value instanceof SyncedDict || value instanceof SyncedList,
    )
    if (children.length === 0) break
    node = rng.pick(children)
  }
  return node
}

function randomOperation(rng: Rng, mem: Memory): void {
  const node = randomContainer(rng, mem)
  if (node instanceof SyncedList) listOperation(rng, node)
  else dictOperation(rng, node, node === mem)
}

function dictOperation(rng: Rng, dict: SyncedDict, isRoot: boolean): void {
  const roll = rng.next()
  if (roll < 0.55) {
    dict.set(rng.pick(KEYS), randomValue(rng))
  } else if (roll < 0.75) {
    const keys = dict.keys()
    dict.delete(keys.length > 0 && rng.chance(0.8) ? rng.pick(keys) : rng.pick(KEYS))
  } else if (roll < 0.9) {
    dict.update({ [rng.pick(KEYS)]: randomValue(rng), [rng.pick(KEYS)]: randomValue(rng) })
  } else if (roll < 0.97) {
    // Nested content so that later walks find lists and dicts to edit.
    dict.set(
      rng.pick(KEYS),
      rng.chance(0.5) ? [randomValue(rng), randomValue(rng)] : { a: randomValue(rng) },
    )
  } else if (!isRoot || rng.chance(0.3)) {
    dict.clear()
  }
}

function listOperation(rng: Rng, list: SyncedList): void {
  const length = list.length
  const value = (): unknown => randomValue(rng, 1)
  switch (length === 0 ? rng.int(4) : rng.int(12)) {
    case 0:
      list.push(value())
      return
    case 1:
      list.push(value(), value())
      return
    case 2:
      list.insert(rng.int(length + 1), value())
      return
    case 3:
      list.unshift(value())
      return
    case 4:
      list.delete(rng.int(length))
      return
    case 5: {
      const index = rng.int(length)
      list.delete(index, 1 + rng.int(length - index))
      return
    }
    case 6:
      list.move(rng.int(length), rng.int(length))
      return
    case 7:
      list.set(rng.int(length), value())
      return
    case 8:
      list.splice(rng.int(length + 1) - (rng.chance(0.3) ? length : 0), rng.int(3), value())
      return
    case 9:
      if (rng.chance(0.5)) list.pop()
      else list.shift()
      return
    case 10:
      list.splice(rng.int(length), rng.int(2))
      return
    default:
      if (rng.chance(0.3)) list.clear()
      else list.push(value())
  }
}

// ---------------------------------------------------------------------------------------
// The network: flaky client sockets and chaos peers.

/** Whether a frame is a SYNC step 2 or update (a change travelling relay → client). */
function syncChange(frame: Uint8Array): Uint8Array | null {
  let message
  try {
    message = decodeMessage(frame)
  } catch {
    return null
  }
  if (message.type !== MessageType.sync) return null
  const decoder = decoding.createDecoder(message.payload)
  const kind = decoding.readVarUint(decoder)
  if (kind === syncProtocol.messageYjsSyncStep1) return null
  return decoding.readVarUint8Array(decoder)
}

/**
 * One client's network, handed to the client as its `WebSocket` implementation. It can drop
 * the socket and refuse to connect for a while (the client reconnects by itself), and while
 * chaos is on it holds back some relay → client changes to deliver them later, out of
 * order, and delivers others twice. Every change it carries goes to `chaos`.
 */
class FlakyNetwork {
  private offlineUntil = 0
  private misbehaving = true
  private readonly sockets = new Set<FlakySocket>()
  private readonly held = new Held()
  readonly WebSocket: WebSocketConstructor

  constructor(
    private readonly rng: Rng,
    private readonly chaos: Chaos,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const net = this
    this.WebSocket = class extends FlakySocket {
      constructor(url: string) {
        if (Date.now() < net.offlineUntil) throw new Error('offline (simulated)')
        super(url, net)
      }
    }
  }

  /** Drops every open socket; reconnecting fails for `offlineMs`. */
  drop(offlineMs: number): void {
    this.offlineUntil = Date.now() + offlineMs
    for (const socket of this.sockets) socket.terminate()
  }

  /** Ends all misbehaviour: delivers what is held back, reconnects at once. */
  heal(): void {
    this.misbehaving = false
    this.offlineUntil = 0
    this.held.flush()
  }

  /** Stops misbehaving and forgets what is held back (for teardown). */
  stop(): void {
    this.misbehaving = false
    this.held.cancel()
  }

  /** @internal A socket was created (drops also cut sockets still connecting). */
  track(socket: FlakySocket): void {
    this.sockets.add(socket)
  }

  /** @internal */
  untrack(socket: FlakySocket): void {
    this.sockets.delete(socket)
  }

  /** @internal Client → relay. */
  sent(frame: Uint8Array): void {
    try {
      const message = decodeMessage(frame)
      if (message.type === MessageType.update) this.chaos.capture(message.update)
    } catch {
      // not ours to judge
    }
  }

  /** @internal Relay → client. */
  receive(frame: Uint8Array, deliver: () => void): void {
    const change = syncChange(frame)
    if (change) this.chaos.capture(change)
    if (!change || !this.misbehaving) return deliver()
    const roll = this.rng.next()
    if (roll < 0.2) return this.held.later(deliver, this.rng.int(60))
    deliver()
    if (roll < 0.35) this.held.later(deliver, this.rng.int(60))
  }
}

/** A `ws` socket seen through a {@link FlakyNetwork}. */
class FlakySocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  private readonly inner: WebSocket

  constructor(url: string, net: FlakyNetwork) {
    const inner = new WebSocket(url)
    inner.binaryType = 'arraybuffer'
    inner.onopen = (event) => this.onopen?.(event)
    inner.onclose = (event) => {
      net.untrack(this)
      this.onclose?.({ code: event.code, reason: event.reason })
    }
    inner.onerror = (event) => this.onerror?.(event)
    inner.onmessage = (event) => {
      const data = event.data as ArrayBuffer
      net.receive(new Uint8Array(data), () => this.onmessage?.({ data }))
    }
    this.inner = inner
    this.send = (data) => {
      net.sent(data)
      inner.send(data)
    }
    net.track(this)
  }

  get binaryType(): string {
    return 'arraybuffer'
  }
  set binaryType(_value: string) {
    // always 'arraybuffer'
  }
  get readyState(): number {
    return this.inner.readyState
  }
  readonly send: (data: Uint8Array) => void
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason)
  }
  terminate(): void {
    this.inner.terminate()
  }
}

/**
 * Sends updates captured on the wires again through a {@link ChaosPeer} on a random relay:
 * some right away, racing the original (often to the other relay, ahead of its broadcast),
 * and bursts of recent ones in shuffled order.
 */
class Chaos {
  private readonly recent: Uint8Array[] = []
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private active = true

  constructor(
    private readonly rng: Rng,
    private readonly peers: ChaosPeer[],
  ) {}

  capture(update: Uint8Array): void {
    if (!this.active) return
    this.recent.push(update)
    if (this.recent.length > 20) this.recent.shift()
    if (!this.rng.chance(0.2)) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.rng.pick(this.peers).send([update])
    }, this.rng.int(10))
    this.timers.add(timer)
  }

  burst(): void {
    const updates = this.rng.sample(this.recent, 1 + this.rng.int(8))
    this.rng.pick(this.peers).send(this.rng.shuffle(updates))
  }

  stop(): void {
    this.active = false
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }
}

/**
 * A raw protocol client that subscribes to a memory and sends captured updates again as
 * UPDATE frames with its own sequence numbers: duplicates, and out of order. The relay may
 * refuse those whose dependencies it lacks (ERROR missingDependencies); that is fine, the
 * originals arrive too.
 */
class ChaosPeer {
  private socket: WebSocket | null = null
  private ready = false
  private seq = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false

  constructor(
    private readonly url: string,
    private readonly name: string,
  ) {
    this.connect()
  }

  private connect(): void {
    if (this.closed) return
    const socket = new WebSocket(this.url)
    this.socket = socket
    this.ready = false
    socket.on('error', () => {})
    socket.on('open', () => {
      const encoder = encoding.createEncoder()
      syncProtocol.writeSyncStep1(encoder, new Y.Doc())
      const payload = encoding.toUint8Array(encoder)
      socket.send(encodeMessage({ type: MessageType.sync, name: this.name, payload }))
      this.ready = this.socket === socket
    })
  }

  /** Sends `updates` as UPDATE frames, in the given order; nothing while disconnected. */
  send(updates: Uint8Array[]): void {
    const socket = this.socket
    if (!socket || !this.ready || socket.readyState !== WebSocket.OPEN) return
    for (const update of updates) {
      socket.send(
        encodeMessage({ type: MessageType.update, name: this.name, seq: ++this.seq, update }),
      )
    }
  }

  /** Disconnects for `ms`. */
  pause(ms: number): void {
    this.socket?.terminate()
    this.socket = null
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      this.connect()
    }, ms)
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.socket?.terminate()
  }
}

/**
 * The broadcast between relays, misbehaving: some messages arrive twice, some later and out
 * of order. None is lost: a relay notices a gap only when a later message arrives (or after
 * a Redis reconnect), and loss is covered in onRedis.test.ts.
 */
class FlakyBroadcast {
  private misbehaving = true
  private readonly held = new Held()

  constructor(private readonly rng: Rng) {}

  wrap(store: Store): Store {
    return wrapStore(store, {
      subscribe: (name, listener) =>
        store.subscribe(name, (message) => this.deliver(() => listener(message))),
    })
  }

  heal(): void {
    this.misbehaving = false
    this.held.flush()
  }

  stop(): void {
    this.misbehaving = false
    this.held.cancel()
  }

  private deliver(deliver: () => void): void {
    if (!this.misbehaving) return deliver()
    const roll = this.rng.next()
    if (roll < 0.15) return this.held.later(deliver, this.rng.int(40))
    deliver()
    if (roll < 0.25) this.held.later(deliver, this.rng.int(40))
  }
}

/** Deliveries postponed by a timer; `flush` makes them all at once. */
class Held {
  private readonly pending = new Map<ReturnType<typeof setTimeout>, () => void>()

  later(deliver: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer)
      deliver()
    }, ms)
    this.pending.set(timer, deliver)
  }

  flush(): void {
    for (const [timer, deliver] of this.pending) {
      clearTimeout(timer)
      deliver()
    }
    this.pending.clear()
  }

  /** Forgets every postponed delivery (for teardown). */
  cancel(): void {
    for (const timer of this.pending.keys()) clearTimeout(timer)
    this.pending.clear()
  }
}

/** Every projection key of memory `name` (prefix `memory:`), unwrapped, as one object. */
async function readProjection(name: string): Promise<Record<string, unknown>> {
  const plain = new Redis(redis.url)
  try {
    const prefix = `memory:${name}:`
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, found] = await plain.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      keys.push(...found)
      cursor = next
    } while (cursor !== '0')
    const values: Record<string, unknown> = {}
    for (const key of keys) {
      const text = await plain.get(key)
      if (text !== null)
        values[key.slice(prefix.length)] = (JSON.parse(text) as { value: unknown }).value
    }
    return values
  } finally {
    plain.disconnect()
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
