/**
 * A burst of local transactions travels as the one update it adds up to, read from the
 * document (protocol/burstUpdate.ts): overwritten values arrive as one deleted range, not as
 * every value written. Applied anywhere, it gives what the transactions' own updates give.
 */
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import * as syncProtocol from 'y-protocols/sync'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemorySync } from '../MemorySync.ts'
import { fakeConnection } from './helpers/fakeConnection.ts'
import { createMemoryStorage } from '../offline/memoryStorage.ts'
import { BurstUpdate } from '../protocol/burstUpdate.ts'
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

    const burst = new BurstUpdate()
    const updates: Uint8Array[] = []
    local.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      if (origin !== LOCAL) return
      updates.push(update)
      burst.add(transaction, 0)
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
    const encoded = burst.encode(local, 0)
    expect(encoded).not.toBeNull()
    // The relay has the remote changes too (they came through it).
    for (const update of remoteUpdates) {
      Y.applyUpdate(byBurst, update)
      Y.applyUpdate(byUpdates, update)
    }
    Y.applyUpdate(byBurst, encoded!)
    Y.applyUpdate(byUpdates, Y.mergeUpdates(updates))
    expect(byBurst.store.pendingStructs).toBeNull()
    expect(byBurst.store.pendingDs).toBeNull()
    expect(byBurst.getMap('root').toJSON()).toEqual(local.getMap('root').toJSON())
    expect(byBurst.getMap('root').toJSON()).toEqual(byUpdates.getMap('root').toJSON())
    expect(Y.encodeStateVector(byBurst)).toEqual(Y.encodeStateVector(byUpdates))
    expect(Y.encodeStateAsUpdate(byBurst)).toEqual(Y.encodeStateAsUpdate(byUpdates))
  },
)

it('declines a burst whose document changed epoch or writer meanwhile', () => {
  const doc = new Y.Doc()
  const burst = new BurstUpdate()
  doc.on('update', (_update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => burst.add(transaction, 3))
  doc.getMap('m').set('a', 1)
  expect(burst.encode(doc, 4)).toBeNull()
  expect(burst.encode(doc, 3)).not.toBeNull()
  doc.clientID = 12345
  expect(burst.encode(doc, 3)).toBeNull()
  burst.clear()
  expect(burst.encode(doc, 3)).toBeNull()
})

it('sends a key written 64 times in one task as its last value and one deleted range', async () => {
  const sent: Message[] = []
  const doc = new Y.Doc()
  const sync = new MemorySync({
    name: 'm',
    doc,
    connection: fakeConnection(sent),
    storage: createMemoryStorage().open('ws://relay', 'm', 'tab'),
    storageKind: () => 'memory',
    tabs: null,
    checkpointMs: 1_000,
    onError: (error) => {
      throw error
    },
  })
  await sync.loaded
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, new Y.Doc())
  sync.onMessage({ type: MessageType.sync, name: 'm', payload: encoding.toUint8Array(encoder) })
  sent.length = 0

  const map = doc.getMap<number>('m')
  for (let i = 0; i < 64; i++) map.set('k', i)
  await Promise.resolve()
  const frames = sent.filter((message) => message.type === MessageType.update)
  expect(frames).toHaveLength(1)
  const frame = frames[0] as Extract<Message, { type: typeof MessageType.update }>
  expect(frame.seq).toBe(64)
  const { structs } = Y.decodeUpdate(frame.update)
  expect(structs).toHaveLength(2)
  const relay = new Y.Doc()
  Y.applyUpdate(relay, frame.update)
  expect(relay.getMap('m').toJSON()).toEqual({ k: 63 })
  expect(Y.encodeStateVector(relay)).toEqual(Y.encodeStateVector(doc))
  await sync.dispose()
})
