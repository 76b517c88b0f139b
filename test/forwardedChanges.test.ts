/**
 * Honest clients forward each other's changes (issue 9, findings 1 and 2): after a relay
 * crash, each client holds the others' unpersisted changes and sends them in its handshake
 * diff. Those diffs must end persisted and acknowledged, also while everyone stays connected
 * and when the clients' changes depend on each other in a cycle (A1 <- B1 <- A2). A
 * connection may still never write new clocks of another live client's id.
 */
import { afterEach, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Memory, RefusedError, type SyncedList } from '@remem/client'
import { ErrorCode } from '@remem/client/protocol'
import { RedisStore, type Store } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, startRelay, wrapStore } from './helpers.ts'
import { metric } from './promText.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'
import { startRedis } from './redisServer.ts'
import { freePort, spawnRelay } from './relayProcess.ts'

const MEMORY = 'forwarded'
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const list = (memory: Memory): SyncedList => memory.get('log') as SyncedList

/** `store`, whose loads wait until `open()` is called. */
function gatedLoads(store: Store): { store: Store; open: () => void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return {
    open,
    store: wrapStore(store, { load: async (name) => (await opened, store.load(name)) }),
  }
}

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

it("after a relay crash, two connected clients holding each other's unpersisted changes get them all persisted and acked", async () => {
  const redis = await startRedis({ persist: true })
  cleanups.push(() => redis.stop())
  const port = await freePort()
  const crashed = await spawnRelay(['--port', String(port), '--redis', redis.url])
  cleanups.push(() => crashed.child.kill('SIGKILL'))
  const alice = connect(crashed.url)
  const bob = connect(crashed.url)
  cleanups.push(() => alice.close(), () => bob.close())
  const a = alice.memory(MEMORY)
  const b = bob.memory(MEMORY)
  a.set('log', [])
  await a.whenSynced()
  await eventually(() => expect(b.get('log')).toBeDefined())

  // Redis goes away: the relay applies and fans out every change but persists none.
  redis.kill()
  list(a).push('a1')
  await eventually(() => expect(list(b).toJSON()).toEqual(['a1']))
  list(b).push('b1') // placed after a1: Bob's change depends on Alice's
  await eventually(() => expect(list(a).toJSON()).toEqual(['a1', 'b1']))
  list(a).push('a2') // placed after b1: a cycle between the two clients' structs
  a.set('fromAlice', 1)
  b.set('fromBob', 1)
  await eventually(() => {
    expect(b.toJSON()).toEqual(a.toJSON())
    expect(a.toJSON()).toMatchObject({ fromAlice: 1, fromBob: 1, log: ['a1', 'b1', 'a2'] })
  })
  expect(a.status.pending).toBe(3)
  expect(b.status.pending).toBe(2)

  // The relay dies with all of it; Redis and a relay come back on the same port.
  crashed.child.kill('SIGKILL')
  await crashed.exited
  await redis.restart()
  // Both clients' SYNC step 1 are in before the memory loads, so each has declared its own
  // client id before either handshake diff (which carries the other's changes) arrives.
  const redisStore = new RedisStore({ redis: redis.url })
  cleanups.push(() => redisStore.close())
  const gate = gatedLoads(redisStore)
  let asked = 0
  const relay = await startRelay({
    port,
    store: gate.store,
    authorize: ({ memory }) => {
      if (memory === MEMORY && ++asked === 2) gate.open()
      return 'write'
    },
  })
  cleanups.push(() => relay.close())

  await within(20_000, 'both clients synced', Promise.all([a.whenSynced(), b.whenSynced()]))
  expect(a.status).toMatchObject({ connection: 'online', pending: 0 })
  expect(b.status).toMatchObject({ connection: 'online', pending: 0 })
  // Nothing was refused: each forwarded the other's past clocks, which the rule allows.
  expect(await metric(relay, 'remem_refusals_total', { reason: 'clientIdTaken' })).toBe(0)
  expect(await metric(relay, 'remem_refusals_total', { reason: 'missingDependencies' })).toBe(0)
  for (const client of [alice, bob]) expect(client.errors.filter((e) => e instanceof RefusedError)).toEqual([])
  const stored = await readMemoryFromRedis(redis.url, MEMORY)
  expect(stored.json).toEqual(a.toJSON())
  expect(stored.json).toEqual(b.toJSON())
  expect(stored.json).toMatchObject({ fromAlice: 1, fromBob: 1, log: ['a1', 'b1', 'a2'] })
})

it("a connection may add a live client's past clocks, never its next ones", async () => {
  const relay = await startRelay()
  cleanups.push(() => relay.close())
  const owner = await RawClient.open(relay.url)
  const forwarder = await RawClient.open(relay.url)
  cleanups.push(() => owner.close(), () => forwarder.close())
  // The owner made two changes (clocks 0 and 1 of its id) the relay has not received.
  const ownerId = 737_373
  const first = entryUpdate(ownerId, owner.mirror, 'one', 1)
  Y.applyUpdate(owner.mirror, first)
  const second = entryUpdate(ownerId, owner.mirror, 'two', 2)
  Y.applyUpdate(owner.mirror, second)
  await owner.subscribe(MEMORY, ownerId)
  await forwarder.subscribe(MEMORY)

  // Its next change, as another connection would write it: refused.
  const next = entryUpdate(ownerId, owner.mirror, 'three', 3)
  forwarder.send(updateFrame(MEMORY, 1, Y.mergeUpdates([first, second, next])))
  const refusal = await forwarder.until(() => forwarder.refusals()[0], 'a refusal')
  expect(refusal.code).toBe(ErrorCode.clientIdTaken)
  expect(refusal.message).toContain(`client ${ownerId} at or past clock 2`)

  // Its past changes, forwarded (after a fresh handshake, which clears the refusal): accepted.
  await forwarder.subscribe(MEMORY)
  const from = forwarder.frames.length
  forwarder.send(updateFrame(MEMORY, 2, Y.mergeUpdates([first, second])))
  await forwarder.until(() => (forwarder.acks(from).includes(2) ? true : undefined), 'ACK 2')
  expect(forwarder.refusals(from)).toEqual([])
  const room = relay.relay.rooms.get(MEMORY)!
  expect(Y.getState(room.doc.store, ownerId)).toBe(2)
  // The owner's own diff repeats them (no-ops) and continues: accepted.
  owner.send(updateFrame(MEMORY, 1, Y.mergeUpdates([first, second, next])))
  await owner.until(() => (owner.acks().includes(1) ? true : undefined), 'the owner ACK 1')
  expect(owner.refusals()).toEqual([])
  expect(Y.getState(room.doc.store, ownerId)).toBe(3)
})
