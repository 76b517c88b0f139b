/**
 * Malformed and hostile input from one client, against a relay on a real redis-server:
 * random frames, truncated frames, text frames, random and crafted updates, oversized
 * frames and updates, invalid memory names, frames out of order, and a flood. For every
 * case the hostile client gets the ERROR code or close code docs/PROTOCOL.md names, two
 * honest clients on the same memory keep converging, the hostile client wrote nothing to
 * Redis, the memory holds no pending structs, and the relay keeps accepting connections
 * and never throws.
 */
import { Redis } from 'ioredis'
import * as encoding from 'lib0/encoding'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { type Memory, RefusedError } from '@remem/client'
import {
  CloseCode,
  ErrorCode,
  MessageType,
  docToJSON,
  encodeMessage,
} from '@remem/client/protocol'
import type { Logger, RelayHandle } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { craft, laterUpdateWithoutEarlier, rootItem } from './craftedUpdates.ts'
import { RawClient, peerUpdate, prng, randomBytes, syncStep1, updateFrame } from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const MEMORY = 'shared'
const documentedErrors = new Set<number>(Object.values(ErrorCode))

// ---- the shared setup: one Redis, one relay, two honest clients, checks after each case ----

let redis: RedisServer
let redisClient: Redis
let relay: RelayHandle
let honestA: Memory
let honestB: Memory
let honestErrors: Error[][] = []
const relayErrors: string[] = []
const crashes: unknown[] = []
const onCrash = (error: unknown): void => {
  crashes.push(error)
}
const logger: Logger = {
  info() {},
  warn() {},
  error: (message, data) => relayErrors.push(`${message} ${JSON.stringify(data ?? {})}`),
}
const closers: Array<() => unknown> = []

beforeAll(async () => {
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  redis = await startRedis()
  redisClient = new Redis(redis.url)
  relay = await startRelay({ redis: redis.url, logger })
  const a = connect(relay.url)
  const b = connect(relay.url)
  honestErrors = [a.errors, b.errors]
  closers.push(
    () => a.close(),
    () => b.close(),
  )
  honestA = a.memory(MEMORY)
  honestB = b.memory(MEMORY)
  honestA.set('list', [1, 2, 3])
  honestA.set('name', 'shared')
  honestB.set('form', { city: 'Oslo' })
  await Promise.all([honestA.whenSynced(), honestB.whenSynced()])
  await eventually(() => expect(honestB.toJSON()).toEqual(honestA.toJSON()))
})

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await relay?.close()
  redisClient?.disconnect()
  await redis?.stop()
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
})

let redisBefore: Awaited<ReturnType<typeof redisState>>
beforeEach(async () => {
  redisBefore = await settledRedisState()
})

afterEach(async () => {
  for (const close of closers.splice(2).reverse()) await close()
  expect(crashes).toEqual([])
  expect(relayErrors).toEqual([])
  expect(honestErrors.flat()).toEqual([])
})

/**
 * Redis once the relay is done writing: the shared memory persisted, its projection keys
 * written (they follow the log asynchronously), and nothing changing for a while.
 */
async function settledRedisState(): Promise<Awaited<ReturnType<typeof redisState>>> {
  await room().whenPersisted()
  await eventually(async () => {
    const keys = await redisClient.keys(`memory:${MEMORY}:*`)
    for (const key of Object.keys(honestA.toJSON()))
      expect(keys).toContain(`memory:${MEMORY}:${key}`)
  })
  return settled(redisState)
}

/** Reads `read` until two reads 50 ms apart agree. */
async function settled<T>(read: () => Promise<T>): Promise<T> {
  let previous = await read()
  for (;;) {
    await sleep(50)
    const next = await read()
    if (JSON.stringify(next) === JSON.stringify(previous)) return next
    previous = next
  }
}

/** Every key in Redis, and the shared memory's log, snapshot and content. */
async function redisState() {
  const base = `remem:{memory:${MEMORY}}`
  const [keys, logLength, snapshot, memory] = await Promise.all([
    redisClient.keys('*'),
    redisClient.xlen(`${base}:log`),
    redisClient.getBuffer(`${base}:snapshot`),
    readMemoryFromRedis(redis.url, MEMORY),
  ])
  return {
    keys: keys.sort(),
    logLength,
    snapshot: snapshot?.toString('base64') ?? null,
    json: memory.json,
  }
}

async function hostile(url = relay.url): Promise<RawClient> {
  const client = await RawClient.open(url)
  closers.push(() => client.close())
  return client
}

/** The relay's live room for the shared memory. */
function room() {
  return relay.relay.rooms.get(MEMORY)!
}

let probes = 0
/**
 * After a hostile case: nothing the hostile client sent reached Redis, no pending structs,
 * the honest clients still converge (and their edits reach Redis), and the relay still
 * accepts connections.
 */
async function expectUnharmed(): Promise<void> {
  expect(await settledRedisState()).toEqual(redisBefore)
  expect(room().doc.store.pendingStructs).toBeNull()
  expect(room().doc.store.pendingDs).toBeNull()
  const probe = ++probes
  honestA.set('probe', probe)
  honestB.set('probeB', probe)
  await eventually(() => {
    expect(honestB.get('probe')).toBe(probe)
    expect(honestA.get('probeB')).toBe(probe)
  })
  await Promise.all([honestA.whenSynced(), honestB.whenSynced()])
  expect(honestB.toJSON()).toEqual(honestA.toJSON())
  expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(honestA.toJSON())
  const newcomer = await RawClient.open(relay.url)
  expect(await newcomer.barrier()).toBeNull()
  newcomer.close()
}

describe('frames that do not parse', () => {
  it('2,000 random frames of random lengths: close 4400 or a documented ERROR, never a crash', async () => {
    const random = prng(1)
    let client = await hostile()
    const outcomes = { closed: 0, refused: 0, quiet: 0 }
    for (let i = 0; i < 2_000; i++) {
      const length = Math.floor(random() ** 2 * 300)
      let frame = randomBytes(random, length)
      // Two thirds start with a real message type, half of those with a short name, to get
      // past the first checks.
      const roll = random()
      if (length > 0 && roll < 0.67) frame[0] = Math.floor(random() * 8)
      if (length > 2 && roll < 0.33)
        frame = Uint8Array.from([frame[0]!, 1 + Math.floor(random() * 5), ...frame.subarray(1)])
      const from = client.frames.length
      client.send(frame)
      const closed = await client.barrier()
      if (closed) {
        expect(closed.code, `frame ${i}: ${frame.join(',')}`).toBe(CloseCode.malformedFrame)
        outcomes.closed++
        client = await hostile()
        continue
      }
      const errors = client.errors(from).filter((e) => !e.name.startsWith('barrier:'))
      for (const error of errors) expect(documentedErrors, `frame ${i}`).toContain(error.code)
      if (errors.length > 0) outcomes.refused++
      else outcomes.quiet++
    }
    expect(outcomes.closed).toBeGreaterThan(1000)
    expect(outcomes.refused).toBeGreaterThan(10)
    await expectUnharmed()
  })

  it('every prefix of a valid UPDATE and of a valid SYNC frame: close 4400 or ERROR badMessage', async () => {
    const update = peerUpdate(501, new Y.Doc(), (doc) =>
      doc.getArray('root').push([{ k: 'x', v: 1 }]),
    )
    const frames = { update: updateFrame(MEMORY, 1, update), sync: syncStep1(MEMORY, honestDoc()) }
    for (const [kind, full] of Object.entries(frames)) {
      let client = await hostile()
      await client.subscribe(MEMORY)
      for (let length = 0; length < full.length; length++) {
        const from = client.frames.length
        client.send(full.subarray(0, length))
        const closed = await client.barrier()
        if (closed) {
          expect(closed.code, `${kind} prefix ${length}`).toBe(CloseCode.malformedFrame)
          client = await hostile()
          await client.subscribe(MEMORY)
          continue
        }
        const codes = client
          .errors(from)
          .filter((e) => !e.name.startsWith('barrier:'))
          .map((e) => e.code)
        expect(codes, `${kind} prefix ${length}`).toEqual([ErrorCode.badMessage])
      }
    }
    await expectUnharmed()
  })

  it('a text frame closes the connection with 4400', async () => {
    const client = await hostile()
    await client.subscribe(MEMORY)
    client.send(JSON.stringify({ type: 'update', name: MEMORY }))
    expect(await client.until(() => client.closed ?? undefined, 'close')).toMatchObject({
      code: CloseCode.malformedFrame,
    })
    await expectUnharmed()
  })

  it('a frame larger than maxFrameBytes closes with 1009; a smaller update over maxUpdateBytes gets updateTooLarge', async () => {
    const small = await startRelay({
      redis: redis.url,
      logger,
      maxFrameBytes: 64 * 1024,
      maxUpdateBytes: 16 * 1024,
    })
    closers.push(() => small.close())
    const honest = connect(small.url)
    closers.push(() => honest.close())
    const mem = honest.memory('limits')
    mem.set('ok', true)
    await mem.whenSynced()
    const allKeys = async (): Promise<string[]> => (await redisClient.keys('*')).sort()
    await eventually(async () => expect(await allKeys()).toContain('memory:limits:ok'))
    const keysBefore = await settled(allKeys)

    const client = await hostile(small.url)
    await client.subscribe('limits')
    const big = peerUpdate(502, client.mirror, (doc) =>
      doc.getArray('root').push([{ k: 'big', v: 'x'.repeat(32 * 1024) }]),
    )
    client.send(updateFrame('limits', 1, big))
    expect((await client.until(() => client.errors()[0], 'ERROR')).code).toBe(
      ErrorCode.updateTooLarge,
    )

    const huge = peerUpdate(503, client.mirror, (doc) =>
      doc.getArray('root').push([{ k: 'huge', v: 'x'.repeat(100 * 1024) }]),
    )
    client.send(updateFrame('limits', 2, huge))
    expect(await client.until(() => client.closed ?? undefined, 'close')).toMatchObject({
      code: CloseCode.frameTooLarge,
    })

    expect(client.acks()).toEqual([])
    expect(await settled(allKeys)).toEqual(keysBefore)
    mem.set('after', 1)
    await mem.whenSynced()
    expect((await readMemoryFromRedis(redis.url, 'limits')).json).toEqual({ ok: true, after: 1 })
    expect(honest.errors).toEqual([])
    // The honest client's writes to `limits` are in Redis now; the shared memory is untouched.
    redisBefore = await settledRedisState()
    await expectUnharmed()
  })
})

/** A fresh doc holding the relay's current state of the shared memory, as honest A has it. */
function honestDoc(): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(room().doc))
  return doc
}

describe('updates that are not what they claim', () => {
  /**
   * Sends `count` updates from `generate` on the shared memory, then a sentinel the relay
   * refuses naming its client id; once that ERROR is back, every update before it has been
   * handled (a memory's updates are handled in order). Acks say little here: the relay never
   * acknowledges past a refused update.
   */
  async function sendUpdates(count: number, generate: (seq: number, mirror: Y.Doc) => Uint8Array) {
    const client = await hostile()
    await client.subscribe(MEMORY)
    const from = client.frames.length
    for (let seq = 1; seq <= count; seq++)
      client.send(updateFrame(MEMORY, seq, generate(seq, client.mirror)))
    const sentinel = 4_242_421
    client.send(
      updateFrame(
        MEMORY,
        count + 1,
        craft(sentinel, 5, (e) => (e.writeInfo(0), e.writeLen(1), 1)),
      ),
    )
    await client.until(
      () => client.errors(from).find((e) => e.message.includes(String(sentinel))),
      'the sentinel',
    )
    const errors = client.errors(from).slice(0, -1)
    for (const error of errors) expect(documentedErrors).toContain(error.code)
    return { errors, accepted: count - errors.length }
  }

  it('random bytes as the UPDATE payload: documented ERRORs; the few accepted change nothing', async () => {
    const random = prng(2)
    const before = Y.encodeStateVector(room().doc)
    const { errors } = await sendUpdates(500, () =>
      random() < 0.5
        ? randomBytes(random, Math.floor(random() * 64))
        : // Noise behind a plausible header: one client section of one struct.
          Uint8Array.from([1, 1, ...randomBytes(random, 2 + Math.floor(random() * 40))]),
    )
    expect(errors.length).toBeGreaterThan(450)
    expect(new Set(errors.map((e) => e.code))).toContain(ErrorCode.malformedUpdate)
    // What was accepted (an empty update decodes fine) changed nothing.
    expect(Y.encodeStateVector(room().doc)).toEqual(before)
    await expectUnharmed()
  })

  it('honest updates with bytes flipped: refused, or valid edits everyone gets, nothing corrupt', async () => {
    const random = prng(4)
    const { errors, accepted } = await sendUpdates(300, (seq, mirror) => {
      const update = peerUpdate(600 + seq, mirror, (doc) =>
        doc.getArray('root').push([{ k: `m${seq % 5}`, v: seq }]),
      )
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        update[Math.floor(random() * update.length)] = Math.floor(random() * 256)
      }
      return update
    })
    expect(errors.length).toBeGreaterThan(150)
    // A flipped value byte still makes a valid edit; those were applied and persisted like
    // any other client's, and the memory stayed whole.
    expect(accepted).toBeGreaterThan(0)
    await room().whenPersisted()
    // The sentinel's ERROR can overtake the fan-out to the honest clients (other sockets).
    await eventually(() => expect(honestA.toJSON()).toEqual(docToJSON(room().doc)))
    await eventually(() => expect(honestB.toJSON()).toEqual(honestA.toJSON()))
    expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(honestA.toJSON())
    const fresh = new Y.Doc()
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(room().doc))
    expect(docToJSON(fresh)).toEqual(honestA.toJSON())
    redisBefore = await settledRedisState()
    await expectUnharmed()
  })

  const crafted: Array<{ name: string; code: ErrorCode; update: (mirror: Y.Doc) => Uint8Array }> = [
    {
      name: 'a struct at clock 2^40 for a new client',
      code: ErrorCode.missingDependencies,
      update: () =>
        craft(
          701,
          2 ** 40,
          rootItem(8, (e) => (e.writeLen(1), encoding.writeAny(e.restEncoder, 1))),
        ),
    },
    {
      name: 'a GC struct of length 2^40 at clock 0',
      code: ErrorCode.hostileClock,
      update: () => craft(702, 0, (e) => (e.writeInfo(0), e.writeLen(2 ** 40), 1)),
    },
    {
      name: 'ContentDeleted of length 2^40 at clock 0',
      code: ErrorCode.hostileClock,
      update: () =>
        craft(
          703,
          0,
          rootItem(1, (e) => e.writeLen(2 ** 40)),
        ),
    },
    {
      name: 'a later update of a client without the earlier one',
      code: ErrorCode.missingDependencies,
      update: (mirror) => laterUpdateWithoutEarlier(704, mirror),
    },
    {
      name: 'an item next to an item the relay never saw',
      code: ErrorCode.missingDependencies,
      update: (mirror) => {
        const other = new Y.Doc()
        other.clientID = 705
        Y.applyUpdate(other, Y.encodeStateAsUpdate(mirror))
        other.getArray('root').push(['unseen'])
        return peerUpdate(706, other, (doc) => doc.getArray('root').push(['after it']))
      },
    },
    {
      name: 'deleting a range of a client the relay does not know',
      code: ErrorCode.missingDependencies,
      update: () => craft(707, 0, () => 0, [[708, 0, 10]]),
    },
    {
      name: 'Y.Text content',
      code: ErrorCode.unsupportedContent,
      update: (mirror) =>
        peerUpdate(709, mirror, (doc) => doc.getArray('root').push([new Y.Text('hi')])),
    },
    {
      name: 'an XML element',
      code: ErrorCode.unsupportedContent,
      update: (mirror) =>
        peerUpdate(710, mirror, (doc) => doc.getArray('root').push([new Y.XmlElement('p')])),
    },
    {
      name: 'a subdocument',
      code: ErrorCode.unsupportedContent,
      update: (mirror) =>
        peerUpdate(711, mirror, (doc) => doc.getArray('root').push([new Y.Doc()])),
    },
    {
      name: 'a format',
      code: ErrorCode.unsupportedContent,
      update: () =>
        craft(
          712,
          0,
          rootItem(6, (e) => (e.writeKey('bold'), e.writeJSON(true))),
        ),
    },
    {
      name: 'a root type other than root',
      code: ErrorCode.unsupportedContent,
      update: (mirror) => peerUpdate(713, mirror, (doc) => doc.getMap('other').set('k', 1)),
    },
    {
      name: 'a value that is not JSON (an object whose __proto__ key sets its prototype)',
      code: ErrorCode.unsupportedContent,
      update: () =>
        craft(
          714,
          0,
          rootItem(8, (e) => {
            e.writeLen(1)
            encoding.writeUint8(e.restEncoder, 118)
            encoding.writeVarUint(e.restEncoder, 1)
            encoding.writeVarString(e.restEncoder, '__proto__')
            encoding.writeAny(e.restEncoder, { k: 'name', v: 'evil' })
          }),
        ),
    },
    {
      name: 'types nested 3,000 deep',
      code: ErrorCode.unsupportedContent,
      update: (mirror) =>
        peerUpdate(715, mirror, (doc) => {
          let list = doc.getArray<unknown>('root')
          for (let depth = 0; depth < 1_500; depth++) {
            const wrapper = new Y.Map<unknown>()
            const inner = new Y.Array<unknown>()
            list.push([wrapper])
            wrapper.set('t', 'l')
            wrapper.set('v', inner)
            list = inner
          }
        }),
    },
  ]

  it.each(crafted)('$name → ERROR $code', async ({ code, update }) => {
    const client = await hostile()
    await client.subscribe(MEMORY)
    const from = client.frames.length
    client.send(updateFrame(MEMORY, 1, update(client.mirror)))
    const error = await client.until(() => client.errors(from)[0], 'ERROR')
    expect({ name: error.name, code: error.code }).toEqual({ name: MEMORY, code })
    expect(client.acks()).toEqual([])
    await expectUnharmed()
  })
})

describe('requests that break the protocol', () => {
  it.each([
    ['with a ":"', 'a:b'],
    ['with a space', 'a b'],
    ['with a "*"', 'a*'],
    ['empty', ''],
    ['of 201 characters', 'x'.repeat(201)],
    ['with non-ASCII letters', 'mémoire'],
  ])('a memory name %s gets ERROR invalidName and loads nothing', async (_what, name) => {
    const rooms = relay.relay.rooms.size
    const client = await hostile()
    const from = client.frames.length
    client.send(syncStep1(name, new Y.Doc()))
    client.send(
      updateFrame(
        name,
        1,
        peerUpdate(801, new Y.Doc(), (doc) => doc.getArray('root').push([1])),
      ),
    )
    client.send(encodeMessage({ type: MessageType.close, name }))
    await client.barrier()
    const errors = client.errors(from).filter((e) => !e.name.startsWith('barrier:'))
    // The relay echoes at most 200 characters of the name.
    const echoed = name.slice(0, 200)
    expect(errors.map((e) => [e.name, e.code])).toEqual([
      [echoed, ErrorCode.invalidName],
      [echoed, ErrorCode.invalidName],
      [echoed, ErrorCode.invalidName],
    ])
    expect(relay.relay.rooms.size).toBe(rooms)
    await expectUnharmed()
  })

  it('UPDATE before SYNC, SYNC step 2 and SYNC update, ACK, ERROR and PONG from a client get ERROR badMessage', async () => {
    const client = await hostile()
    const update = peerUpdate(802, honestDoc(), (doc) =>
      doc.getArray('root').push([{ k: 'sneaky', v: 1 }]),
    )
    const sync = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
      const encoder = encoding.createEncoder()
      write(encoder)
      return encodeMessage({
        type: MessageType.sync,
        name: MEMORY,
        payload: encoding.toUint8Array(encoder),
      })
    }
    const frames = [
      updateFrame(MEMORY, 1, update),
      sync((e) => syncProtocol.writeSyncStep2(e, honestDoc())),
      sync((e) => syncProtocol.writeUpdate(e, update)),
      encodeMessage({ type: MessageType.ack, name: MEMORY, seq: 1 }),
      encodeMessage({ type: MessageType.error, name: MEMORY, code: 1, message: 'no' }),
      encodeMessage({ type: MessageType.pong, name: MEMORY }),
      sync((e) => encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep1)),
    ]
    for (const frame of frames) client.send(frame)
    await client.barrier()
    const codes = client
      .errors()
      .filter((e) => e.name === MEMORY)
      .map((e) => e.code)
    expect(codes).toEqual(frames.map(() => ErrorCode.badMessage))
    // After all that the socket still works: it can subscribe and write.
    await client.subscribe(MEMORY)
    expect(honestA.get('sneaky')).toBeUndefined()
    await expectUnharmed()
  })
})

describe('a hostile client next to honest ones', () => {
  it('floods garbage while two honest clients edit: they converge and only their edits reach Redis', async () => {
    const random = prng(3)
    const client = await hostile()
    await client.subscribe(MEMORY)
    const garbage = await hostile()
    let flooding = true
    const flood = (async () => {
      let seq = 0
      while (flooding) {
        for (let i = 0; i < 50; i++) {
          const junk = craft(
            900 + (seq % 50),
            2 ** 30 + seq,
            (e) => (e.writeInfo(0), e.writeLen(1 + (seq % 7)), 1),
          )
          client.send(updateFrame(MEMORY, ++seq, random() < 0.5 ? junk : randomBytes(random, 30)))
          garbage.send(
            encodeMessage({
              type: MessageType.sync,
              name: `no such:${seq}`,
              payload: new Uint8Array([0, 0]),
            }),
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      return seq
    })()
    const list = honestA.get('list') as { push(v: number): void }
    for (let i = 0; i < 40; i++) {
      honestA.set(`a${i}`, i)
      honestB.set(`b${i}`, i)
      if (i % 4 === 0) list.push(100 + i)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await Promise.all([honestA.whenSynced(), honestB.whenSynced()])
    flooding = false
    const sent = await flood
    await client.until(
      () => (client.errors().length >= sent ? true : undefined),
      'an ERROR per flooded update',
      15_000,
    )
    expect(client.acks()).toEqual([])
    await eventually(() => expect(honestB.toJSON()).toEqual(honestA.toJSON()))
    const expected = honestA.toJSON() as Record<string, unknown>
    for (let i = 0; i < 40; i++) expect([expected[`a${i}`], expected[`b${i}`]]).toEqual([i, i])
    expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(expected)
    // The honest edits are in Redis; apart from them, nothing changed.
    redisBefore = await settledRedisState()
    await expectUnharmed()
  })
})

describe('the client library', () => {
  it('reports a refused update as RefusedError with the reason updateTooLarge', async () => {
    const tiny = await startRelay({ redis: redis.url, logger, maxUpdateBytes: 256 })
    closers.push(() => tiny.close())
    const client = connect(tiny.url)
    closers.push(() => client.close())
    const mem = client.memory('tiny')
    mem.set('small', 1)
    await mem.whenSynced()
    mem.set('big', 'x'.repeat(1_000))
    const error = await eventually(() => {
      const refused = client.errors.find((e) => e instanceof RefusedError)
      expect(refused).toBeDefined()
      return refused as RefusedError
    })
    expect(error.reason).toBe('updateTooLarge')
    expect(error.message).toContain('tiny')
    expect((await readMemoryFromRedis(redis.url, 'tiny')).json).toEqual({ small: 1 })
    redisBefore = await settledRedisState()
    await expectUnharmed()
  })
})
