/**
 * The local transactions of one task become one change, whose update is read from the
 * document (offline/Burst.ts): overwritten values arrive as one deleted range, not as every
 * value written. Applied anywhere, it gives what the transactions' own updates give.
 */
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import * as syncProtocol from 'y-protocols/sync'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemorySync } from '../MemorySync.ts'
import { fakeConnection } from './helpers/fakeConnection.ts'
import { createViews } from './helpers/views.ts'
import { createMemoryStorage } from '../offline/memoryStorage.ts'
import { ALONE_BYTES, BURST_BYTES, Burst } from '../offline/Burst.ts'
import { type Message, MessageType } from '../protocol/messages.ts'

const LOCAL = Symbol('local')
const REMOTE = Symbol('remote')

/** One random local or remote transaction on a map of lists and maps. */
function randomTransaction(gen: prng.PRNG, doc: Y.Doc, origin: symbol): void {
  doc.transact(() => {
    const root = doc.getMap<unknown>('root')
    const steps = prng.int32(gen, 1, 3)
    for (let step = 0; step < steps; step++) {
      const key = `k${prng.int32(gen, 0, 4)}`
      const existing = root.get(key)
      const op = prng.int32(gen, 0, 5)
      if (existing instanceof Y.Array && op < 3) {
        if (op === 0 || existing.length === 0) existing.insert(prng.int32(gen, 0, existing.length), [prng.word(gen)])
        else if (op === 1) existing.delete(prng.int32(gen, 0, existing.length - 1), 1)
        else existing.push([prng.int32(gen, 0, 100), prng.word(gen)])
      } else if (existing instanceof Y.Map && op < 3) {
        if (op === 0) existing.delete(`n${prng.int32(gen, 0, 2)}`)
        else existing.set(`n${prng.int32(gen, 0, 2)}`, prng.int32(gen, 0, 1000))
      } else if (op === 3) {
        root.set(key, new Y.Array())
      } else if (op === 4) {
        root.set(key, new Y.Map())
      } else if (op === 5 && existing !== undefined) {
        root.delete(key)
      } else {
        root.set(key, prng.word(gen))
      }
    }
  }, origin)
}

it.each(Array.from({ length: 60 }, (_, seed) => seed))(
  'seed %i: the burst update gives what its transactions give, remote changes in between',
  (seed) => {
    const gen = prng.create(seed)
    const local = new Y.Doc()
    const remote = new Y.Doc()
    const sync = (from: Y.Doc, to: Y.Doc): void => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), REMOTE)
    for (let i = 0; i < 10; i++) randomTransaction(gen, i % 2 ? local : remote, LOCAL)
    sync(local, remote)
    sync(remote, local)
    // The relay's copy, before the burst.
    const byBurst = new Y.Doc()
    const byUpdates = new Y.Doc()
    sync(local, byBurst)
    sync(local, byUpdates)

    const burst = new Burst()
    const updates: Uint8Array[] = []
    local.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      if (origin !== LOCAL) return
      updates.push(update)
      burst.add(transaction, 0, '[]')
    })
    const remoteUpdates: Uint8Array[] = []
    remote.on('update', (update: Uint8Array, origin: unknown) => origin === LOCAL && remoteUpdates.push(update))
    for (let i = 0; i < 30; i++) {
      if (i === 0 || prng.bool(gen)) {
        randomTransaction(gen, local, LOCAL)
      } else {
        // Another client's change reaches this one mid-burst (it may delete what the burst wrote).
        const before = remoteUpdates.length
        randomTransaction(gen, remote, LOCAL)
        for (const update of remoteUpdates.slice(before)) Y.applyUpdate(local, update, REMOTE)
      }
    }
    const encoded = burst.encode(local)
    // The relay has the remote changes too (they came through it).
    for (const update of remoteUpdates) {
      Y.applyUpdate(byBurst, update)
      Y.applyUpdate(byUpdates, update)
    }
    Y.applyUpdate(byBurst, encoded)
    Y.applyUpdate(byUpdates, Y.mergeUpdates(updates))
    expect(byBurst.store.pendingStructs).toBeNull()
    expect(byBurst.store.pendingDs).toBeNull()
    expect(byBurst.getMap('root').toJSON()).toEqual(local.getMap('root').toJSON())
    expect(byBurst.getMap('root').toJSON()).toEqual(byUpdates.getMap('root').toJSON())
    expect(Y.encodeStateVector(byBurst)).toEqual(Y.encodeStateVector(byUpdates))
    expect(Y.encodeStateAsUpdate(byBurst)).toEqual(Y.encodeStateAsUpdate(byUpdates))
  },
)

/** A memory's sync on `storage`, its sent messages recorded in `sent`, once loaded. */
async function openMemory(storage: ReturnType<typeof createMemoryStorage>, sent: Message[] = []) {
  const { doc, root } = createViews()
  const sync = new MemorySync({
    name: 'm',
    doc,
    connection: fakeConnection(sent),
    storage: storage.open('ws://relay', 'm', 'tab'),
    storageKind: () => 'memory',
    tabs: null,
    checkpointMs: 60_000,
    onError: (error) => {
      throw error
    },
  })
  await sync.loaded
  return { sync, doc, root }
}

/** A memory's sync on a connection that records what it sends, past its handshake. */
async function syncedMemory() {
  const sent: Message[] = []
  const { sync, doc, root } = await openMemory(createMemoryStorage(), sent)
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, new Y.Doc())
  sync.onMessage({ type: MessageType.sync, name: 'm', payload: encoding.toUint8Array(encoder) })
  sent.length = 0
  const updates = (): Array<{ seq: number; update: Uint8Array }> =>
    sent.flatMap((message) => (message.type === MessageType.update ? [{ seq: message.seq, update: message.update }] : []))
  return { sync, doc, root, updates }
}

it('makes a key written 64 times in one task one change: its last value and one deleted range', async () => {
  const { sync, doc, root, updates } = await syncedMemory()
  for (let i = 0; i < 64; i++) root.set('k', i)
  expect(sync.status.pending).toBe(64)
  expect(updates()).toEqual([])
  await Promise.resolve()
  expect(updates().map((frame) => frame.seq)).toEqual([1])
  expect(sync.pendingChanges.map((change) => change.seq)).toEqual([1])
  expect(sync.status.pending).toBe(64)
  const { update } = updates()[0]!
  // The value, and every overwritten one as one deleted range.
  expect(Y.decodeUpdate(update).structs.filter((struct) => struct instanceof Y.Item)).toHaveLength(2)
  const relay = createViews()
  Y.applyUpdate(relay.doc, update)
  expect(relay.root.toJSON()).toEqual({ k: 63 })
  expect(Y.encodeStateVector(relay.doc)).toEqual(Y.encodeStateVector(doc))
  // The relay's ACK of that one seq settles all 64 writes.
  sync.onMessage({ type: MessageType.ack, name: 'm', seq: 1 })
  expect(sync.status.pending).toBe(0)
  await sync.dispose()
})

it('closes a burst at BURST_BYTES of intent, and makes a large write a change of its own', async () => {
  const { sync, root, updates } = await syncedMemory()
  for (let i = 0; i < 300; i++) root.set(`k${i}`, i)
  // A write of more than a KiB goes alone: a relay that refuses it for its size refuses no other.
  root.set('large', 'x'.repeat(2_000))
  root.set('after', 1)
  const closedInTask = updates().length
  await Promise.resolve()
  const changes = sync.pendingChanges as ReadonlyArray<(typeof sync.pendingChanges)[number] & { writes: number; intents: unknown[] }>
  expect(updates().map((frame) => frame.seq)).toEqual(changes.map((change) => change.seq))
  // Closed in the task: the full bursts, the one before the large write, the large write.
  expect(closedInTask).toBe(changes.length - 1)
  expect(changes.length).toBeGreaterThanOrEqual(4)
  expect(changes.map((change) => change.writes).reduce((a, b) => a + b)).toBe(302)
  expect(sync.status.pending).toBe(302)
  expect(changes.at(-2)).toMatchObject({ writes: 1 })
  expect(changes.at(-2)!.update.byteLength).toBeGreaterThan(ALONE_BYTES)
  expect(changes.at(-1)).toMatchObject({ writes: 1 })
  for (const change of changes.slice(0, -2)) {
    expect(change.writes).toBeGreaterThan(1)
    expect(change.update.byteLength).toBeLessThan(BURST_BYTES)
    // What each change meant is stored with it: every write of the burst, in order.
    expect(change.intents).toHaveLength(change.writes)
  }
  const first = changes[0]!.intents as Array<{ key: string }>
  expect(first.map((intent) => intent.key)).toEqual(Array.from({ length: first.length }, (_, i) => `k${i}`))
  const relay = createViews()
  for (const { update } of updates()) Y.applyUpdate(relay.doc, update)
  expect(relay.root.toJSON()).toEqual(root.toJSON())
  await sync.dispose()
})

it('counts a stored burst as its writes after a reload, and the reloaded document holds them', async () => {
  const storage = createMemoryStorage()
  const before = await openMemory(storage)
  for (let i = 0; i < 10; i++) before.root.set(`k${i}`, i)
  await Promise.resolve()
  // Offline: one change of 10 writes, never acknowledged.
  expect(before.sync.pendingChanges).toHaveLength(1)
  expect(before.sync.status.pending).toBe(10)
  await before.sync.dispose()
  const after = await openMemory(storage)
  expect(after.sync.status.pending).toBe(10)
  expect(after.root.toJSON()).toEqual(before.root.toJSON())
  await after.sync.dispose()
})

it("carries another client's structs applied as a local change in the same task (a tab's change forwarded)", async () => {
  const { sync, root, updates } = await syncedMemory()
  const tab = createViews()
  tab.root.set('fromTab', 'hello')
  root.set('own', 1)
  // Applied with no origin: a local change of this memory, written as the tab's client id.
  Y.applyUpdate(sync.doc, Y.encodeStateAsUpdate(tab.doc))
  root.set('own', 2)
  await Promise.resolve()
  expect(updates()).toHaveLength(1)
  const relay = createViews()
  Y.applyUpdate(relay.doc, updates()[0]!.update)
  expect(relay.root.toJSON()).toEqual({ fromTab: 'hello', own: 2 })
  expect(relay.doc.store.pendingStructs).toBeNull()
  await sync.dispose()
})
