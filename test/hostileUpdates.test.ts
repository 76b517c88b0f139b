/**
 * Updates that are well-formed but hostile, from connections that may write: structs that
 * write as another connection's Yjs client id, absurd clocks, deletions of clients the relay
 * does not know, and structs that would wait for missing ones. Each is refused with the
 * documented ERROR code; nothing reaches Redis or the other clients; the honest clients keep
 * writing and converging; and the honest path for client ids (a tab forwarding another
 * tab's changes) heals by itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Memory, RememClient } from '@remem/client'
import { ErrorCode, MessageType } from '@remem/client/protocol'
import type { Logger, RelayHandle } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { metric } from './promText.ts'
import { craft, laterUpdateWithoutEarlier, oneEntry } from './craftedUpdates.ts'
import { RawClient, entryUpdate, peerUpdate, updateFrame } from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const MEMORY = 'owned'

let redis: RedisServer
let relay: RelayHandle
let alice: RememClient & { errors: Error[] }
let bob: RememClient & { errors: Error[] }
let aliceMem: Memory
let bobMem: Memory
const relayErrors: string[] = []
const logger: Logger = {
  info() {},
  warn() {},
  error: (message, data) => relayErrors.push(`${message} ${JSON.stringify(data ?? {})}`),
}
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  redis = await startRedis()
  relay = await startRelay({ redis: redis.url, logger })
  alice = connect(relay.url)
  bob = connect(relay.url)
  aliceMem = alice.memory(MEMORY)
  bobMem = bob.memory(MEMORY)
  aliceMem.set('a', 1)
  bobMem.set('b', 1)
  await Promise.all([aliceMem.whenSynced(), bobMem.whenSynced()])
  await eventually(() => expect(bobMem.toJSON()).toEqual(aliceMem.toJSON()))
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  expect(relayErrors).toEqual([])
  expect(alice.errors).toEqual([])
  expect(bob.errors).toEqual([])
})

afterAll(async () => {
  await alice?.close()
  await bob?.close()
  await relay?.close()
  await redis?.stop()
})

async function raw(): Promise<RawClient> {
  const client = await RawClient.open(relay.url)
  cleanups.push(() => client.close())
  return client
}

const room = () => relay.relay.rooms.get(MEMORY)!

let probes = 0
/** Nothing of the hostile update anywhere; alice and bob still write, converge and persist. */
async function expectUnharmed(before: { json: unknown; vector: Uint8Array }): Promise<void> {
  await room().whenPersisted()
  expect(Y.encodeStateVector(room().doc)).toEqual(before.vector)
  expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(before.json)
  expect(room().doc.store.pendingStructs).toBeNull()
  const probe = ++probes
  aliceMem.set('probeA', probe)
  bobMem.set('probeB', probe)
  await Promise.all([aliceMem.whenSynced(), bobMem.whenSynced()])
  await eventually(() => {
    expect(bobMem.get('probeA')).toBe(probe)
    expect(aliceMem.get('probeB')).toBe(probe)
  })
  expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(aliceMem.toJSON())
}

async function snapshot() {
  await room().whenPersisted()
  return {
    json: (await readMemoryFromRedis(redis.url, MEMORY)).json,
    vector: Y.encodeStateVector(room().doc),
  }
}

/** Sends one update on a fresh subscribed connection and returns the relay's first ERROR. */
async function refusalOf(update: (mirror: Y.Doc) => Uint8Array, client?: RawClient) {
  const hostile = client ?? (await raw())
  if (!client) await hostile.subscribe(MEMORY)
  const from = hostile.frames.length
  hostile.send(updateFrame(MEMORY, 1, update(hostile.mirror)))
  const error = await hostile.until(() => hostile.refusals(from)[0], 'an ERROR')
  expect(hostile.acks(from)).toEqual([])
  return error
}

describe('writing as another connection', () => {
  it("structs continuing a live client's own id are refused with clientIdTaken", async () => {
    const before = await snapshot()
    const error = await refusalOf((mirror) =>
      peerUpdate(aliceMem.doc.clientID, mirror, (doc) =>
        doc.getArray('root').push([{ k: 'a', v: 'hijacked' }]),
      ),
    )
    expect(error).toMatchObject({ name: MEMORY, code: ErrorCode.clientIdTaken })
    expect(error.message).toContain(String(aliceMem.doc.clientID))
    await expectUnharmed(before)
    // Alice's next change, at exactly the clocks the hostile update tried to take, arrived intact.
    expect(bobMem.get('a')).toBe(1)
  })

  it('declaring a live client id in SYNC step 1 does not take it over', async () => {
    const before = await snapshot()
    const hostile = await raw()
    await hostile.subscribe(MEMORY, bobMem.doc.clientID)
    const error = await refusalOf(
      (mirror) =>
        peerUpdate(bobMem.doc.clientID, mirror, (doc) =>
          doc.getArray('root').push([{ k: 'b', v: 'mine' }]),
        ),
      hostile,
    )
    expect(error.code).toBe(ErrorCode.clientIdTaken)
    await expectUnharmed(before)
  })

  it('a declared client id belongs to its connection until it leaves', async () => {
    const first = await raw()
    await first.subscribe(MEMORY, 424_242)
    first.send(updateFrame(MEMORY, 1, entryUpdate(424_242, first.mirror, 'first', 1)))
    await first.until(() => (first.acks().includes(1) ? true : undefined), 'ACK 1')
    await eventually(() => expect(aliceMem.get('first')).toBe(1))

    const second = await raw()
    await second.subscribe(MEMORY)
    const before = await snapshot()
    const error = await refusalOf((mirror) => entryUpdate(424_242, mirror, 'second', 2), second)
    expect(error.code).toBe(ErrorCode.clientIdTaken)
    await expectUnharmed(before)

    first.close()
    await eventually(() => expect(room().sessions.size).toBe(3))
    // A new handshake clears the refusal; the id is free now.
    await second.subscribe(MEMORY)
    const from = second.frames.length
    second.send(updateFrame(MEMORY, 2, entryUpdate(424_242, second.mirror, 'second', 2)))
    await second.until(() => (second.acks(from).includes(2) ? true : undefined), 'ACK 2')
    await eventually(() => expect(bobMem.get('second')).toBe(2))
    aliceMem.delete('first')
    aliceMem.delete('second')
    await aliceMem.whenSynced()
  })

  it("a client forwarding a live tab's change is refused, re-handshakes, and settles once that tab's change is in", async () => {
    // A tab (raw, declaring its id) made a change the relay has not seen yet; a second tab
    // of the same browser got it over BroadcastChannel and holds it as its own change.
    const tab = await raw()
    const tabId = 515_151
    await tab.subscribe(MEMORY, tabId)
    const change = entryUpdate(tabId, tab.mirror, 'fromTab', 'hello')
    const taken = () => metric(relay, 'remem_refusals_total', { reason: 'clientIdTaken' })
    const takenBefore = await taken()
    const forwarder = connect(relay.url)
    cleanups.push(() => forwarder.close())
    const fwdMem = forwarder.memory(MEMORY)
    await eventually(() => expect(fwdMem.status.connection).toBe('online'))
    Y.applyUpdate(fwdMem.doc, change)
    await sleep(300)
    expect(fwdMem.status.pending).toBe(1)
    expect(await taken()).toBeGreaterThan(takenBefore)
    // The tab sends its own change; the forwarder's next handshake no longer carries it.
    tab.send(updateFrame(MEMORY, 1, change))
    await tab.until(() => (tab.acks().includes(1) ? true : undefined), 'ACK 1')
    await fwdMem.whenSynced()
    expect(forwarder.errors).toEqual([])
    await eventually(() => expect(aliceMem.get('fromTab')).toBe('hello'))
    aliceMem.delete('fromTab')
    await aliceMem.whenSynced()
  })
})

describe('updates that would corrupt or stall the memory', () => {
  const cases: Array<{ name: string; code: ErrorCode; update: (mirror: Y.Doc) => Uint8Array }> = [
    {
      name: 'a clock of 2^40 for a new client (an absurd clock)',
      code: ErrorCode.missingDependencies,
      update: () => craft(801, 2 ** 40, oneEntry),
    },
    {
      name: 'a struct 2^40 long (an absurd clock advance)',
      code: ErrorCode.hostileClock,
      update: () => craft(802, 0, (e) => (e.writeInfo(0), e.writeLen(2 ** 40), 1)),
    },
    {
      name: "deleting a range of Alice's clocks she never wrote",
      code: ErrorCode.missingDependencies,
      update: () => craft(803, 0, () => 0, [[aliceMem.doc.clientID, 1_000_000, 5]]),
    },
    {
      name: 'deleting a range of a client the relay does not know',
      code: ErrorCode.missingDependencies,
      update: () => craft(804, 0, () => 0, [[805, 0, 10]]),
    },
    {
      name: 'structs that would wait for missing ones (pending structs)',
      code: ErrorCode.missingDependencies,
      update: (mirror) => laterUpdateWithoutEarlier(806, mirror),
    },
  ]

  it.each(cases)('$name → ERROR $code', async ({ code, update }) => {
    const before = await snapshot()
    const error = await refusalOf(update)
    expect(error.code).toBe(code)
    await expectUnharmed(before)
  })

  it('a connection that keeps sending hostile updates never stalls the memory for others', async () => {
    const hostile = await raw()
    await hostile.subscribe(MEMORY)
    const started = Date.now()
    for (let seq = 1; seq <= 300; seq++) {
      const update = [
        () => craft(900 + seq, 2 ** 40, oneEntry),
        () =>
          peerUpdate(aliceMem.doc.clientID, hostile.mirror, (doc) =>
            doc.getArray('root').push([seq]),
          ),
        () => craft(900 + seq, 0, () => 0, [[77, 0, 3]]),
      ][seq % 3]!()
      hostile.send(updateFrame(MEMORY, seq, update))
      if (seq % 50 === 0) {
        aliceMem.set('during', seq)
        await aliceMem.whenSynced()
      }
    }
    // Updates are handled in order: once the sentinel's refusal is back, all were handled.
    hostile.send(updateFrame(MEMORY, 301, craft(4_242_421, 5, oneEntry)))
    await hostile.until(
      () => hostile.refusals().find((e) => e.message.includes('4242421')),
      'the sentinel',
    )
    // Updates as Alice built on a stale copy only repeat clocks the relay has: Yjs skips
    // them, and nothing changes. All others were refused.
    expect(hostile.refusals().length).toBeGreaterThan(200)
    expect(new Set(hostile.refusals().map((e) => e.code))).toEqual(
      new Set([ErrorCode.missingDependencies, ErrorCode.clientIdTaken]),
    )
    expect(hostile.frames.filter((f) => f.type === MessageType.ack)).toEqual([])
    expect(Date.now() - started).toBeLessThan(15_000)
    await eventually(() => expect(bobMem.get('during')).toBe(300))
    aliceMem.delete('during')
    await aliceMem.whenSynced()
    await expectUnharmed(await snapshot())
  })
})
