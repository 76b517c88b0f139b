/**
 * The offline-first client against a real relay and Redis, with IndexedDB from
 * fake-indexeddb: edits made while the relay is down survive closing the client and reach
 * Redis later; an abandoned client loses nothing; resending and repeated acknowledgements
 * change nothing; a failing IndexedDB falls back to memory without losing edits.
 */
import 'fake-indexeddb/auto'
import { createServer } from 'node:net'
import { createStore, entries } from 'idb-keyval'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MessageType } from '@remem/client/protocol'
import type { ClientOptions, Memory, RememClient, StorageError, SyncedList } from '@remem/client'
import { type Store, EmbeddedStore } from '@remem/server'
import {
  connect,
  eventually,
  readMemoryFromRedis,
  sleep,
  startRelay,
  wrapStore,
} from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let redis: RedisServer
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

let names = 0
const uniqueName = (): string => `offline-${Date.now()}-${++names}`

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

function client(
  url: string,
  options: Partial<ClientOptions> = {},
): RememClient & { errors: Error[] } {
  const c = connect(url, { checkpointMs: 20, ...options })
  cleanups.push(() => c.close())
  return c
}

async function relayOn(port: number, options: { store?: Store } = {}) {
  const relay = await startRelay({ port, redis: redis.url, ...options })
  cleanups.push(() => relay.close())
  return relay
}

/** The IndexedDB keys of memory `name`, without the relay URL. */
async function storedKeys(name: string): Promise<unknown[][]> {
  const all = await entries(createStore('remem', 'memories'))
  return all
    .map(([key]) => key as unknown[])
    .filter((key) => key[1] === name)
    .map((key) => key.slice(2))
}

/** Sends frames to a memory as if they came from the relay (internal, for ack edge cases). */
function deliver(
  c: RememClient,
  name: string,
  message: { type: typeof MessageType.ack; seq: number },
): void {
  const channels = (
    c.connection as unknown as { channels: Map<string, { onMessage(m: unknown): void }> }
  ).channels
  channels.get(name)?.onMessage({ ...message, name })
}

describe('edits made while the relay is down', () => {
  it('survive closing the client, show offline in a new one, and reach Redis and others later', async () => {
    const port = await freePort()
    const url = `ws://127.0.0.1:${port}`
    const name = uniqueName()

    const first = client(url)
    const mem = first.memory(name)
    mem.set('title', 'offline')
    mem.set('todos', [{ text: 'a' }])
    ;(mem.get('todos') as SyncedList).push({ text: 'b' })
    expect(mem.status.pending).toBe(3)
    expect(mem.status.connection).not.toBe('online')
    expect(mem.status.storage).toBe('indexeddb')
    await first.close()

    // A new client, still offline, shows the edits and the same pending count.
    const second = client(url)
    const again = second.memory(name)
    await eventually(() => expect(again.status.pending).toBe(3))
    expect(again.toJSON()).toEqual({ title: 'offline', todos: [{ text: 'a' }, { text: 'b' }] })
    again.set('more', 1)
    expect(again.status.pending).toBe(4)

    // The relay comes up: everything is acknowledged, persisted and seen by others.
    await relayOn(port)
    await again.whenSynced()
    expect(again.status.pending).toBe(0)
    expect(again.status.connection).toBe('online')
    expect(again.status.lastSyncedAt).toBeGreaterThan(0)
    const expected = { title: 'offline', todos: [{ text: 'a' }, { text: 'b' }], more: 1 }
    expect((await readMemoryFromRedis(redis.url, name)).json).toEqual(expected)
    const other = client(url, { storage: 'memory' }).memory(name)
    await eventually(() => expect(other.toJSON()).toEqual(expected))

    // Storage stays compact: once checkpointed, no acknowledged change is left in the queue.
    await eventually(async () => expect(await storedKeys(name)).toEqual([['doc']]))
    await second.close()
    const third = client(url, { backoff: { minMs: 60_000, maxMs: 60_000 } }).memory(name)
    await eventually(() => expect(third.toJSON()).toEqual(expected))
    expect(third.status.pending).toBe(0)
  })

  it('a client abandoned right after an edit loses nothing: the write-ahead queue already holds it', async () => {
    const port = await freePort()
    const url = `ws://127.0.0.1:${port}`
    const name = uniqueName()
    // No tab channel: what the second client shows can only come from storage.
    const abandoned = client(url, { tabs: false })
    abandoned.memory(name).set('draft', 'do not lose me')
    await new Promise((resolve) => setTimeout(resolve, 0))

    const next = client(url, { tabs: false }).memory(name)
    await eventually(() => expect(next.status.pending).toBe(1))
    expect(next.toJSON()).toEqual({ draft: 'do not lose me' })

    await relayOn(port)
    await next.whenSynced()
    expect((await readMemoryFromRedis(redis.url, name)).json).toEqual({ draft: 'do not lose me' })
  })

  it('edits of two clients (tabs) on one storage all survive and are shown offline', async () => {
    const port = await freePort()
    const url = `ws://127.0.0.1:${port}`
    const name = uniqueName()
    const tabA = client(url)
    const tabB = client(url)
    const a = tabA.memory(name)
    const b = tabB.memory(name)
    a.set('a', 1)
    b.set('b', 2)
    // Tabs see each other's edits at once, without a relay.
    await eventually(() => expect(a.toJSON()).toEqual({ a: 1, b: 2 }))
    await eventually(() => expect(b.toJSON()).toEqual({ a: 1, b: 2 }))
    // Each tab counts only its own edits.
    expect([a.status.pending, b.status.pending]).toEqual([1, 1])
    await Promise.all([tabA.close(), tabB.close()])

    const later = client(url).memory(name)
    await eventually(() => expect(later.status.pending).toBe(2))
    expect(later.toJSON()).toEqual({ a: 1, b: 2 })
    await relayOn(port)
    await later.whenSynced()
    expect((await readMemoryFromRedis(redis.url, name)).json).toEqual({ a: 1, b: 2 })
    await eventually(async () => expect(await storedKeys(name)).toEqual([['doc']]))
  })
})

describe('acknowledgements', () => {
  it('resending after a reconnect and repeated acks change nothing', async () => {
    const port = await freePort()
    const name = uniqueName()
    let hold: Promise<void> | null = null
    let release = (): void => {}
    const inner = new EmbeddedStore()
    const store = wrapStore(inner, {
      append: async (memory, updates, relayId) => {
        if (hold) await hold
        return inner.append(memory, updates, relayId)
      },
    })
    const relay = await startRelay({ port, store })
    cleanups.push(() => relay.close())
    const c = client(relay.url, { storage: 'memory' })
    const mem = c.memory(name)
    mem.set('x', 1)
    await mem.whenSynced()
    const logAfterFirst = (await inner.load(name)).entries.length

    // The next edit reaches the relay but is not persisted yet: no ack.
    hold = new Promise((resolve) => (release = resolve))
    mem.set('y', 2)
    await sleep(100)
    expect(mem.status.pending).toBe(1)

    // The first edit's ack arrives again (late or repeated): nothing changes.
    deliver(c, name, { type: MessageType.ack, seq: 1 })
    deliver(c, name, { type: MessageType.ack, seq: 1 })
    expect(mem.status.pending).toBe(1)

    // Reconnect: the handshake resends what the relay lacks (nothing new: it applied y).
    c.connection.reconnectNow()
    await eventually(() => expect(mem.status.connection).toBe('online'))
    hold = null
    release()
    await mem.whenSynced()
    expect(mem.status.pending).toBe(0)
    const log = (await inner.load(name)).entries
    // Only the effective update of y reached the log: the resend added nothing.
    expect(log.length).toBe(logAfterFirst + 1)
    expect(mem.toJSON()).toEqual({ x: 1, y: 2 })

    // A stale ack after everything settled changes nothing either.
    deliver(c, name, { type: MessageType.ack, seq: 2 })
    expect(mem.status.pending).toBe(0)
    const fresh = client(relay.url, { storage: 'memory' }).memory(name)
    await eventually(() => expect(fresh.toJSON()).toEqual({ x: 1, y: 2 }))
  })

  it('whenSynced waits for the changes made before the call, and pending counts exactly', async () => {
    const relay = await relayOn(0)
    const mem = client(relay.url, { storage: 'memory' }).memory(uniqueName())
    const seen: number[] = []
    mem.subscribeStatus(() => seen.push(mem.status.pending))
    mem.set('a', 1)
    mem.set('b', 2)
    mem.transact(() => {
      mem.set('c', 3)
      mem.set('d', 4)
    })
    expect(mem.status.pending).toBe(3)
    await mem.whenSynced()
    expect(mem.status.pending).toBe(0)
    expect(seen.slice(0, 3)).toEqual([1, 2, 3])
    expect(seen.at(-1)).toBe(0)
    expect(Object.isFrozen(mem.status)).toBe(true)
  })
})

describe('client status', () => {
  it('sums pending over memories and follows the connection', async () => {
    const port = await freePort()
    const c = client(`ws://127.0.0.1:${port}`)
    const statuses: Array<RememClient['status']> = []
    c.subscribeStatus(() => statuses.push(c.status))
    const one = c.memory(uniqueName())
    const two = c.memory(uniqueName())
    one.set('a', 1)
    two.set('b', 1)
    two.set('c', 1)
    expect(c.status.pending).toBe(3)
    expect(c.status.storage).toBe('indexeddb')
    expect(c.status.connection).not.toBe('online')
    await relayOn(port)
    await Promise.all([one.whenSynced(), two.whenSynced()])
    await eventually(() =>
      expect(c.status).toEqual({ connection: 'online', pending: 0, storage: 'indexeddb' }),
    )
    expect(Object.isFrozen(c.status)).toBe(true)
    expect(statuses.map((status) => status.pending)).toContain(3)
  })
})

describe('storage fallback', () => {
  it('where IndexedDB fails, reports it, says storage: memory, and still syncs every edit', async () => {
    const relay = await relayOn(0)
    const name = uniqueName()
    const fallbacks: StorageError[] = []
    const statuses: string[] = []
    const original = globalThis.indexedDB
    const open = original.open.bind(original)
    // IndexedDB refuses to open (as in some private modes) for this client's database.
    const failing = Object.create(original) as IDBFactory
    failing.open = (dbName: string, version?: number) => {
      if (dbName === 'remem-broken')
        throw new DOMException('IndexedDB is disabled', 'InvalidStateError')
      return open(dbName, version)
    }
    globalThis.indexedDB = failing
    cleanups.push(async () => {
      globalThis.indexedDB = original
    })
    const { createIndexedDbStorage } = await import('@remem/client')
    const c = client(relay.url, {
      storage: createIndexedDbStorage({ database: 'remem-broken' }),
      onStorageFallback: (error) => fallbacks.push(error),
    })
    const mem: Memory = c.memory(name)
    mem.subscribeStatus(() => statuses.push(mem.status.storage))
    mem.set('a', 1)
    mem.set('b', 2)
    await eventually(() => expect(mem.status.storage).toBe('memory'))
    expect(c.status.storage).toBe('memory')
    expect(fallbacks).toHaveLength(1)
    expect(fallbacks[0]?.message).toMatch(/IndexedDB is disabled/)
    expect(statuses).toContain('memory')
    mem.set('c', 3)
    await mem.whenSynced()
    const other = client(relay.url, { storage: 'memory' }).memory(name)
    await eventually(() => expect(other.toJSON()).toEqual({ a: 1, b: 2, c: 3 }))
    expect((await readMemoryFromRedis(redis.url, name)).json).toEqual({ a: 1, b: 2, c: 3 })
  })

  it('when a write fails over quota mid-session, keeps the edit and syncs it', async () => {
    const port = await freePort()
    const name = uniqueName()
    const fallbacks: StorageError[] = []
    const c = client(`ws://127.0.0.1:${port}`, {
      onStorageFallback: (error) => fallbacks.push(error),
    })
    const mem = c.memory(name)
    mem.set('before', 1)
    await eventually(() => expect(mem.status.pending).toBe(1))
    await sleep(50)
    const put = IDBObjectStore.prototype.put
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('quota exceeded', 'QuotaExceededError')
    }
    try {
      mem.set('during', 2)
      await eventually(() => expect(mem.status.storage).toBe('memory'))
    } finally {
      IDBObjectStore.prototype.put = put
    }
    expect(fallbacks.map((error) => error.message)).toEqual([
      expect.stringMatching(/QuotaExceededError/),
    ])
    expect(mem.status.pending).toBe(2)
    mem.set('after', 3)
    await relayOn(port)
    await mem.whenSynced()
    expect((await readMemoryFromRedis(redis.url, name)).json).toEqual({
      before: 1,
      during: 2,
      after: 3,
    })
  })
})
