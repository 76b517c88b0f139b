import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { startRedisCluster } from '../../../../../test/redisCluster.ts'
import { startRedis } from '../../../../../test/redisServer.ts'
import type { RedisServer } from '../../../../../test/redisServer.ts'
import { EmbeddedStore } from '../EmbeddedStore.ts'
import { RedisClusterStore } from '../RedisClusterStore.ts'
import { RedisStore } from '../RedisStore.ts'
import { describeRedisOptions, maskRedisUrl } from '../redisUrl.ts'
import { KEPT_ENDED_VECTORS, compareIds } from '../Store.ts'
import type { PublishedUpdate, Store, StoredMemory, StoreStatus } from '../Store.ts'

/** One backing storage that several relays share. */
interface Backend {
  /** A store on the shared storage, as one relay would hold it. */
  open(): Store
  /** Number of log entries as the storage itself counts them (XLEN on Redis). */
  logLength(name: string): Promise<number>
  teardown(): Promise<void>
}

/** Stores that `open` makes on one Redis or cluster, with `raw` to count log entries. */
function redisBackend(open: () => RedisStore, raw: Redis | Cluster, stop: () => Promise<void>): Backend {
  const stores: RedisStore[] = []
  return {
    open: () => {
      const store = open()
      stores.push(store)
      return store
    },
    logLength: (name) => raw.xlen(`remem:{memory:${name}}:log`),
    teardown: async () => {
      await Promise.all(stores.map((store) => store.close()))
      raw.disconnect()
      await stop()
    },
  }
}

const backends: Array<{ kind: string; setup: () => Promise<Backend> }> = [
  {
    kind: 'embedded',
    setup: async () => {
      // Relays on the embedded store share one instance.
      const shared = new EmbeddedStore()
      return {
        open: () => shared,
        logLength: async (name) => (await shared.load(name)).entries.length,
        teardown: () => shared.close(),
      }
    },
  },
  {
    kind: 'redis',
    setup: async () => {
      const server = await startRedis()
      return redisBackend(() => new RedisStore({ redis: server.url }), new Redis(server.url), () => server.stop())
    },
  },
  {
    kind: 'redis-cluster',
    setup: async () => {
      const cluster = await startRedisCluster()
      return redisBackend(
        () => new RedisClusterStore({ cluster: cluster.seeds }),
        new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }]),
        () => cluster.stop(),
      )
    },
  },
]

let counter = 0
const freshName = (): string => `conformance-${++counter}`

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

/** `count` Yjs updates, each pushing one number onto the array 'list'. */
function listUpdates(count: number): { updates: Uint8Array[]; json: number[] } {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const list = doc.getArray<number>('list')
  for (let i = 0; i < count; i++) list.push([i])
  return { updates, json: list.toJSON() }
}

function rebuild(stored: StoredMemory): unknown {
  const doc = new Y.Doc()
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
  for (const entry of stored.entries) Y.applyUpdate(doc, entry.update)
  return doc.getArray('list').toJSON()
}

function snapshotOf(updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  for (const update of updates) Y.applyUpdate(doc, update)
  return Y.encodeStateAsUpdate(doc)
}

function expectIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    expect(compareIds(ids[i - 1] ?? '', ids[i] ?? ''), `${ids[i - 1]} < ${ids[i]}`).toBeLessThan(0)
  }
}

describe.each(backends)('$kind store conformance', ({ setup }) => {
  let backend: Backend
  let a: Store
  let b: Store

  beforeAll(async () => {
    backend = await setup()
  })
  afterAll(async () => {
    await backend.teardown()
  })
  beforeEach(() => {
    a = backend.open()
    b = backend.open()
  })

  it('loads an unknown memory as empty', async () => {
    const name = freshName()
    expect(await a.load(name)).toEqual({ snapshot: null, entries: [], lastId: '0-0', epoch: 0, previousVector: null })
    expect(await a.readSince(name, '0-0')).toEqual([])
  })

  it('gives increasing ids and chains prevId across appends and relays', async () => {
    const name = freshName()
    const first = await a.append(name, [bytes(1), bytes(2)], 'relay-a')
    expect(first.ids).toHaveLength(2)
    expect(first.prevId).toBe('0-0')
    expect(first.logLength).toBe(2)
    expectIncreasing(first.ids)

    const second = await b.append(name, [bytes(3)], 'relay-b')
    expect(second.prevId).toBe(first.ids[1])
    expect(second.logLength).toBe(3)

    const third = await a.append(name, [bytes(4), bytes(5)], 'relay-a')
    expect(third.prevId).toBe(second.ids[0])
    expect(third.logLength).toBe(5)
    expectIncreasing([...first.ids, ...second.ids, ...third.ids])

    const empty = await a.append(name, [], 'relay-a')
    expect(empty).toEqual({ ids: [], prevId: third.ids[1], logLength: 5 })
  })

  it('loads the entries in order with their bytes', async () => {
    const name = freshName()
    const { ids } = await a.append(name, [bytes(1), bytes(2, 3)], 'relay-a')
    const more = await b.append(name, [bytes(4)], 'relay-b')
    const stored = await b.load(name)
    expect(stored.snapshot).toBeNull()
    expect(stored.entries).toEqual([
      { id: ids[0], update: bytes(1) },
      { id: ids[1], update: bytes(2, 3) },
      { id: more.ids[0], update: bytes(4) },
    ])
    expect(stored.lastId).toBe(more.ids[0])
  })

  it('reads the entries strictly after an id', async () => {
    const name = freshName()
    const { ids } = await a.append(name, [bytes(1), bytes(2), bytes(3)], 'relay-a')
    const [id1 = '', id2 = '', id3 = ''] = ids
    expect((await b.readSince(name, '0-0'))?.map((entry) => entry.id)).toEqual(ids)
    expect(await b.readSince(name, id1)).toEqual([
      { id: id2, update: bytes(2) },
      { id: id3, update: bytes(3) },
    ])
    expect(await b.readSince(name, id3)).toEqual([])
  })

  it('loads snapshot plus entries after compaction, to the same document', async () => {
    const name = freshName()
    const { updates, json } = listUpdates(20)
    const { ids } = await a.append(name, updates, 'relay-a')
    expect(await backend.logLength(name)).toBe(20)

    const upto = ids[11] ?? ''
    expect(await b.compact(name, snapshotOf(updates.slice(0, 12)), upto)).toBe(true)
    expect(await backend.logLength(name)).toBe(8)

    const stored = await a.load(name)
    expect(stored.snapshot).not.toBeNull()
    expect(stored.entries.map((entry) => entry.id)).toEqual(ids.slice(12))
    expect(stored.lastId).toBe(ids[19])
    expect(rebuild(stored)).toEqual(json)
    expect(json).toHaveLength(20)
  })

  it('returns null from readSince once compaction passed the id', async () => {
    const name = freshName()
    // 12 entries: on Redis their ids share a millisecond and run to sequence 10 and 11,
    // which sort wrongly as strings.
    const { updates } = listUpdates(12)
    const { ids } = await a.append(name, updates, 'relay-a')
    expect(await a.compact(name, snapshotOf(updates.slice(0, 11)), ids[10] ?? '')).toBe(true)
    expect(await b.readSince(name, '0-0')).toBeNull()
    expect(await b.readSince(name, ids[9] ?? '')).toBeNull()
    expect(await b.readSince(name, ids[2] ?? '')).toBeNull()
    expect((await b.readSince(name, ids[10] ?? ''))?.map((entry) => entry.id)).toEqual([ids[11]])
    expect(await b.readSince(name, ids[11] ?? '')).toEqual([])
  })

  it('refuses to compact to an id the stored snapshot already covers', async () => {
    const name = freshName()
    const { updates, json } = listUpdates(12)
    const { ids } = await a.append(name, updates, 'relay-a')
    const newer = snapshotOf(updates.slice(0, 11))
    expect(await a.compact(name, newer, ids[10] ?? '')).toBe(true)
    expect(await b.compact(name, snapshotOf(updates.slice(0, 10)), ids[9] ?? '')).toBe(false)
    expect(await b.compact(name, snapshotOf(updates.slice(0, 2)), ids[1] ?? '')).toBe(false)
    expect(await b.compact(name, newer, ids[10] ?? '')).toBe(false)
    expect(await backend.logLength(name)).toBe(1)
    const stored = await b.load(name)
    expect(stored.snapshot).toEqual(newer)
    expect(rebuild(stored)).toEqual(json)
  })

  it('keeps the last id when compaction emptied the log', async () => {
    const name = freshName()
    const { updates, json } = listUpdates(3)
    const { ids } = await a.append(name, updates, 'relay-a')
    const last = ids[2] ?? ''
    expect(await a.compact(name, snapshotOf(updates), last)).toBe(true)
    expect(await backend.logLength(name)).toBe(0)

    for (const store of [a, b, backend.open()]) {
      const stored = await store.load(name)
      expect(stored.entries).toEqual([])
      expect(stored.lastId).toBe(last)
      expect(rebuild(stored)).toEqual(json)
    }
    expect(await b.readSince(name, last)).toEqual([])
    expect(await b.readSince(name, ids[1] ?? '')).toBeNull()

    const next = await b.append(name, [bytes(9)], 'relay-b')
    expect(next.prevId).toBe(last)
    expect(next.logLength).toBe(1)
    expectIncreasing([last, ...next.ids])
  })

  it('delivers published updates in order to every relay, the appending one included', async () => {
    const name = freshName()
    const seenByA: PublishedUpdate[] = []
    const seenByB: PublishedUpdate[] = []
    const offA = await a.subscribe(name, (update) => seenByA.push(update))
    const offB = await b.subscribe(name, (update) => seenByB.push(update))

    const pending = a.append(name, [bytes(1), bytes(2)], 'relay-a')
    expect(seenByA).toEqual([])
    const first = await pending
    const second = await b.append(name, [bytes(3)], 'relay-b')
    await vi.waitFor(() => {
      expect(seenByA).toHaveLength(3)
      expect(seenByB).toHaveLength(3)
    })
    const expected: PublishedUpdate[] = [
      { id: first.ids[0] ?? '', prevId: '0-0', origin: 'relay-a', update: bytes(1) },
      { id: first.ids[1] ?? '', prevId: first.ids[0] ?? '', origin: 'relay-a', update: bytes(2) },
      { id: second.ids[0] ?? '', prevId: first.ids[1] ?? '', origin: 'relay-b', update: bytes(3) },
    ]
    expect(seenByA).toEqual(expected)
    expect(seenByB).toEqual(expected)
    await offA()
    await offB()
  })

  it('delivers concurrent appends from two relays in log order', async () => {
    const name = freshName()
    const seenByA: PublishedUpdate[] = []
    const seenByB: PublishedUpdate[] = []
    const offA = await a.subscribe(name, (update) => seenByA.push(update))
    const offB = await b.subscribe(name, (update) => seenByB.push(update))
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).append(name, [bytes(i), bytes(i, i)], i % 2 === 0 ? 'a' : 'b'),
      ),
    )
    await vi.waitFor(() => {
      expect(seenByA).toHaveLength(80)
      expect(seenByB).toHaveLength(80)
    })
    const logIds = (await a.load(name)).entries.map((entry) => entry.id)
    expect(seenByA.map((update) => update.id)).toEqual(logIds)
    expect(seenByB).toEqual(seenByA)
    expect(seenByA.map((update) => update.prevId)).toEqual(['0-0', ...logIds.slice(0, -1)])
    await offA()
    await offB()
  })

  it('stops delivering after unsubscribe', async () => {
    const name = freshName()
    const kept: PublishedUpdate[] = []
    const dropped: PublishedUpdate[] = []
    const offKept = await a.subscribe(name, (update) => kept.push(update))
    const offDropped = await a.subscribe(name, (update) => dropped.push(update))
    const offOther = await b.subscribe(name, () => undefined)

    await b.append(name, [bytes(1)], 'relay-b')
    await vi.waitFor(() => expect(dropped).toHaveLength(1))
    await offDropped()
    await b.append(name, [bytes(2)], 'relay-b')
    await vi.waitFor(() => expect(kept).toHaveLength(2))

    await offKept()
    await offOther()
    const watcher: PublishedUpdate[] = []
    const offWatcher = await b.subscribe(name, (update) => watcher.push(update))
    await a.append(name, [bytes(3)], 'relay-a')
    await vi.waitFor(() => expect(watcher).toHaveLength(1))
    expect(dropped).toHaveLength(1)
    expect(kept).toHaveLength(2)
    await offWatcher()
  })

  it('keeps bytes 0, | and 0xff intact everywhere', async () => {
    const name = freshName()
    const tricky = bytes(124, 0, 255, 124, 124, 13, 10, 0, 255)
    const large = new Uint8Array(256 * 1024).map((_, i) => (i * 7919) % 256)
    // Hex keeps the comparison of 256 KB fast and the diff readable.
    const hex = (list: Array<{ update: Uint8Array }> | null | undefined): string[] =>
      (list ?? []).map((item) => Buffer.from(item.update).toString('hex'))
    const sent = hex([tricky, large, bytes(124)].map((update) => ({ update })))
    const seen: PublishedUpdate[] = []
    const off = await b.subscribe(name, (update) => seen.push(update))

    const { ids } = await a.append(name, [tricky, large, bytes(124)], 'relay-a')
    await vi.waitFor(() => expect(seen).toHaveLength(3))
    expect(hex(seen)).toEqual(sent)
    expect(hex((await a.load(name)).entries)).toEqual(sent)
    expect(hex(await a.readSince(name, ids[0] ?? ''))).toEqual(sent.slice(1))

    const snapshot = bytes(0, 124, 255, 0, 124)
    expect(await a.compact(name, snapshot, ids[2] ?? '')).toBe(true)
    expect((await b.load(name)).snapshot).toEqual(snapshot)
    await off()
  })

  it("rejects a relayId containing '|' and writes nothing", async () => {
    const name = freshName()
    await expect(a.append(name, [bytes(1)], 'relay|a')).rejects.toThrow(/relayId/)
    expect(await a.load(name)).toEqual({ snapshot: null, entries: [], lastId: '0-0', epoch: 0, previousVector: null })
  })

  it('switches epochs atomically: refuses appends of the old one, tells every relay, keeps ids increasing', async () => {
    const name = freshName()
    const { updates } = listUpdates(3)
    const epochs: number[] = []
    const off = await b.subscribe(name, () => undefined, (epoch) => epochs.push(epoch))
    const first = await a.append(name, [updates[0]!, updates[1]!], 'relay-a', 0)
    const last = first.ids.at(-1)!
    const vector = bytes(1, 2, 3)
    // Not at the log's end, or not in the epoch given: nothing changes.
    expect(await a.switchEpoch(name, { from: 0, uptoId: first.ids[0]!, snapshot: bytes(9), previousVector: vector })).toBe(false)
    expect(await a.switchEpoch(name, { from: 1, uptoId: last, snapshot: bytes(9), previousVector: vector })).toBe(false)
    const fresh = snapshotOf(updates.slice(0, 2))
    expect(await b.switchEpoch(name, { from: 0, uptoId: last, snapshot: fresh, previousVector: vector })).toBe(true)
    const stored = await a.load(name)
    expect(stored).toEqual({ snapshot: fresh, entries: [], lastId: last, epoch: 1, previousVector: vector })
    await expect(a.append(name, [updates[2]!], 'relay-a', 0)).rejects.toMatchObject({ name: 'EpochChangedError', epoch: 1 })
    expect((await a.load(name)).entries).toEqual([])
    const next = await a.append(name, [updates[2]!], 'relay-a', 1)
    expect(compareIds(next.ids[0]!, last)).toBeGreaterThan(0)
    expect(next.prevId).toBe(last)
    await vi.waitFor(() => expect(epochs).toEqual([1]))
    await off()
  })

  it('keeps the state vector each of the last KEPT_ENDED_VECTORS epochs ended with', async () => {
    const name = freshName()
    const { updates } = listUpdates(1)
    const { ids } = await a.append(name, [updates[0]!], 'relay-a', 0)
    const switches = KEPT_ENDED_VECTORS + 2
    for (let from = 0; from < switches; from++) {
      const vector = bytes(from % 250, 7)
      expect(await a.switchEpoch(name, { from, uptoId: ids[0]!, snapshot: bytes(1), previousVector: vector })).toBe(true)
    }
    expect(await b.endedVector(name, switches - 1)).toEqual(bytes((switches - 1) % 250, 7))
    expect(await b.endedVector(name, switches - KEPT_ENDED_VECTORS)).toEqual(bytes((switches - KEPT_ENDED_VECTORS) % 250, 7))
    // Older ones are dropped; the current epoch has not ended; other memories have none.
    expect(await b.endedVector(name, switches - KEPT_ENDED_VECTORS - 1)).toBeNull()
    expect(await b.endedVector(name, 0)).toBeNull()
    expect(await b.endedVector(name, switches)).toBeNull()
    expect(await b.endedVector(freshName(), 0)).toBeNull()
  })

  it('keeps memories apart', async () => {
    const one = freshName()
    const two = freshName()
    const seen: PublishedUpdate[] = []
    const off = await a.subscribe(two, (update) => seen.push(update))
    await a.append(one, [bytes(1)], 'relay-a')
    await a.append(two, [bytes(2)], 'relay-a')
    await vi.waitFor(() => expect(seen).toHaveLength(1))
    expect(seen[0]?.update).toEqual(bytes(2))
    expect((await b.load(one)).entries.map((entry) => entry.update)).toEqual([bytes(1)])
    await off()
  })
})

describe('EmbeddedStore', () => {
  it('rejects every storage call during a simulated outage and reports down/up', async () => {
    const store = new EmbeddedStore()
    const statuses: StoreStatus[] = []
    store.onStatus((status) => statuses.push(status))
    const { ids } = await store.append('outage', [bytes(1)], 'relay-a')

    store.simulateOutage(true)
    store.simulateOutage(true)
    await expect(store.append('outage', [bytes(2)], 'relay-a')).rejects.toThrow(Error)
    await expect(store.load('outage')).rejects.toThrow(/down/)
    await expect(store.readSince('outage', '0-0')).rejects.toThrow(/down/)
    await expect(store.compact('outage', bytes(1), ids[0] ?? '')).rejects.toThrow(/down/)
    expect(statuses).toEqual(['down'])

    store.simulateOutage(false)
    expect(statuses).toEqual(['down', 'up'])
    expect((await store.append('outage', [bytes(2)], 'relay-a')).prevId).toBe(ids[0])
    await store.close()
  })
})

describe('RedisStore', () => {
  let server: RedisServer
  let raw: Redis

  beforeAll(async () => {
    server = await startRedis()
    raw = new Redis(server.url)
  })
  afterAll(async () => {
    raw.disconnect()
    await server.stop()
  })

  it('keeps the documented key layout', async () => {
    const store = await RedisStore.connect({ redis: server.url })
    const { updates } = listUpdates(3)
    const { ids } = await store.append('dashboard', updates, 'relay-a')
    expect(await raw.type('remem:{memory:dashboard}:log')).toBe('stream')
    await store.compact('dashboard', bytes(7, 124), ids[0] ?? '')
    expect(await raw.getBuffer('remem:{memory:dashboard}:snapshot')).toEqual(
      Buffer.from(`${ids[0]}|\x07|`, 'latin1'),
    )
    expect(await raw.keys('memory:*')).toEqual([])
    await store.close()

    const prefixed = new RedisStore({
      redis: { port: server.port, host: '127.0.0.1' },
      prefix: 'app:',
    })
    await prefixed.append('x', [bytes(1)], 'relay-a')
    expect(await raw.xlen('remem:{app:x}:log')).toBe(1)
    await prefixed.close()
  })

  it('continues after the snapshot when the log stream was deleted by hand', async () => {
    const store = new RedisStore({ redis: server.url })
    const { ids } = await store.append('deleted', [bytes(1), bytes(2)], 'relay-a')
    await store.compact('deleted', bytes(9), ids[1] ?? '')
    await raw.del('remem:{memory:deleted}:log')
    expect((await store.load('deleted')).lastId).toBe(ids[1])
    const next = await store.append('deleted', [bytes(3)], 'relay-a')
    expect(next.prevId).toBe(ids[1])
    expectIncreasing([ids[1] ?? '', ...next.ids])
    await store.close()
  })

  it('leaves a caller-provided connection open on close', async () => {
    const connection = new Redis(server.url)
    const store = new RedisStore({ redis: connection })
    const off = await store.subscribe('shared', () => undefined)
    await off()
    await store.close()
    expect(await connection.ping()).toBe('PONG')
    connection.disconnect()
  })

  it('rejects malformed ids with a message that says what an id looks like', async () => {
    const store = new RedisStore({ redis: server.url })
    await expect(store.readSince('x', 'nope')).rejects.toThrow(/log id like/)
    await expect(store.compact('x', bytes(1), '12')).rejects.toThrow(/log id like/)
    await store.close()
  })

  it('masks passwords in Redis URLs and options', () => {
    expect(maskRedisUrl('redis://u:secret@127.0.0.1:1/0')).toBe('redis://u:***@127.0.0.1:1/0')
    expect(maskRedisUrl('rediss://:p%40ss@host:6380')).toBe('rediss://:***@host:6380')
    expect(maskRedisUrl('redis://host:6379/2?password=secret&db=1')).toBe(
      'redis://host:6379/2?password=***&db=1',
    )
    expect(maskRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    expect(describeRedisOptions({ host: 'h', port: 1, username: 'u', password: 'secret' })).toBe(
      'redis://u:***@h:1/0',
    )
    expect(describeRedisOptions({ host: 'h', port: 1, db: 3 })).toBe('redis://h:1/3')
  })

  it('fails to connect to a closed port fast, naming the masked URL', async () => {
    const started = Date.now()
    const error = await RedisStore.connect({ redis: 'redis://u:secret@127.0.0.1:1/0' }).then(
      () => null,
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain('redis://u:***@127.0.0.1:1/0')
    expect(message).not.toContain('secret')
    expect(message).toMatch(/ECONNREFUSED/)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('reports down and up across a Redis restart and keeps delivering', async () => {
    const own = await startRedis({ persist: true })
    try {
      const store = await RedisStore.connect({ redis: own.url })
      const statuses: StoreStatus[] = []
      store.onStatus((status) => statuses.push(status))
      const seen: PublishedUpdate[] = []
      await store.subscribe('outage', (update) => seen.push(update))
      const before = await store.append('outage', [bytes(1)], 'relay-a')
      // Pub/sub is fire-and-forget: a message in flight when Redis dies may be lost.
      await vi.waitFor(() => expect(seen).toHaveLength(1))

      own.kill()
      await vi.waitFor(() => expect(statuses).toEqual(['down']), { timeout: 5000 })
      await expect(store.append('outage', [bytes(2)], 'relay-a')).rejects.toThrow(Error)

      await own.restart()
      await vi.waitFor(() => expect(statuses).toEqual(['down', 'up']), { timeout: 10_000 })
      const after = await store.append('outage', [bytes(3)], 'relay-a')
      expect(after.prevId).toBe(before.ids[0])
      await vi.waitFor(() =>
        expect(seen.map((update) => update.update)).toEqual([bytes(1), bytes(3)]),
      )
      await store.close()
    } finally {
      await own.stop()
    }
  })
})
