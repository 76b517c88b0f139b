/**
 * A seeded fuzz campaign against a relay with a secret on a real redis-server: tens of
 * thousands of generated and mutated frames of every message type (and of none), from
 * connections without a token, with forged, expired, read and write tokens, while two
 * honest clients keep editing. The relay never throws, answers only with documented ERROR
 * and close codes, keeps accepting connections, its memory stays bounded, and the honest
 * clients converge with exactly what Redis holds.
 *
 *   npm run fuzz                                    500,000 frames
 *   npm run fuzz -- --frames 2000000 --seed 7       longer, or another seed
 *   REMEM_FUZZ_SEED=7 REMEM_FUZZ_FRAMES=200000 npx vitest run test/fuzz.test.ts
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as encoding from 'lib0/encoding'
import { afterAll, beforeAll, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { Memory, RememClient } from '@remem/client'
import {
  CloseCode,
  ErrorCode,
  MessageType,
  type Message,
  encodeMessage,
} from '@remem/client/protocol'
import { type Logger, type RelayHandle, createToken } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import {
  RawClient,
  entryUpdate,
  peerUpdate,
  prng,
  randomBytes,
  syncStep1,
  updateFrame,
} from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const FRAMES = Number(process.env.REMEM_FUZZ_FRAMES ?? 50_000)
const SEED = Number(process.env.REMEM_FUZZ_SEED ?? 1)
const WORKERS = 8
const SECRET = 'fuzz-secret-0123456789-abcdefghijklmnopq'
const MEMORY = 'fuzz'

const documentedErrors = new Set<number>(Object.values(ErrorCode))
const documentedCloses = new Set<number>([
  CloseCode.malformedFrame,
  CloseCode.unauthorized,
  CloseCode.frameTooLarge,
])

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
function heapUsed(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let redis: RedisServer
let relay: RelayHandle
let alice: RememClient & { errors: Error[] }
let bob: RememClient & { errors: Error[] }
let aliceMem: Memory
let bobMem: Memory
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
const tokens: Record<string, string> = {}

beforeAll(async () => {
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  redis = await startRedis()
  relay = await startRelay({
    redis: redis.url,
    secret: SECRET,
    logger,
    // Throttling has its own tests; here it would only make the campaign slow.
    maxMessagesPerSecond: 1_000_000,
    maxBytesPerSecond: 1024 ** 3,
    maxFrameBytes: 256 * 1024,
  })
  tokens.write = await createToken(SECRET, { memories: [MEMORY, 'fz-*'] })
  tokens.read = await createToken(SECRET, { memories: [MEMORY], access: 'read' })
  tokens.other = await createToken(SECRET, { memories: ['elsewhere'] })
  tokens.expired = await createToken(SECRET, { memories: ['*'], expiresIn: -5 })
  tokens.forged = await createToken('not-the-secret-0123456789-abcdefghijk', { memories: ['*'] })
  alice = connect(relay.url, { token: tokens.write })
  bob = connect(relay.url, { token: tokens.write })
  aliceMem = alice.memory(MEMORY)
  bobMem = bob.memory(MEMORY)
  aliceMem.set('list', [1, 2, 3])
  bobMem.set('form', { city: 'Oslo' })
  await Promise.all([aliceMem.whenSynced(), bobMem.whenSynced()])
})

afterAll(async () => {
  await alice?.close()
  await bob?.close()
  await relay?.close()
  await redis?.stop()
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
})

type Random = () => number
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!
const int = (random: Random, max: number): number => Math.floor(random() * max)

function names(random: Random): string {
  return pick(random, [
    MEMORY,
    MEMORY,
    MEMORY,
    'fz-a',
    'fz-b',
    `fz-${int(random, 50)}`,
    'elsewhere',
    'secret',
    'bad name',
    '',
    'x'.repeat(201),
  ])
}

function stateVector(random: Random, mirror: Y.Doc): Uint8Array {
  if (random() < 0.6) return Y.encodeStateVector(mirror)
  const encoder = encoding.createEncoder()
  const count = int(random, 4)
  encoding.writeVarUint(encoder, count)
  for (let i = 0; i < count; i++) {
    encoding.writeVarUint(encoder, random() < 0.5 ? aliceMem.doc.clientID : int(random, 2 ** 32))
    encoding.writeVarUint(encoder, random() < 0.8 ? int(random, 100) : 2 ** 40)
  }
  return encoding.toUint8Array(encoder)
}

function syncPayload(random: Random, mirror: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  const kind = random()
  if (kind < 0.7) {
    encoding.writeVarUint(encoder, syncProtocol.messageYjsSyncStep1)
    encoding.writeVarUint8Array(encoder, stateVector(random, mirror))
    if (random() < 0.3)
      encoding.writeVarUint(encoder, random() < 0.5 ? aliceMem.doc.clientID : int(random, 2 ** 32))
  } else {
    encoding.writeVarUint(
      encoder,
      kind < 0.85 ? syncProtocol.messageYjsSyncStep2 : syncProtocol.messageYjsUpdate,
    )
    encoding.writeVarUint8Array(encoder, update(random, mirror))
  }
  return encoding.toUint8Array(encoder)
}

function update(random: Random, mirror: Y.Doc): Uint8Array {
  const client = 1_000_000 + int(random, 1_000_000)
  switch (int(random, 8)) {
    case 0:
      return randomBytes(random, int(random, 80))
    case 1:
      return Uint8Array.from([1, 1, ...randomBytes(random, 2 + int(random, 40))])
    case 2:
      // Writes as Alice: refused as clientIdTaken (or skipped where Alice already has it).
      return peerUpdate(aliceMem.doc.clientID, mirror, (doc) =>
        doc.getArray('root').push([{ k: 'hijack', v: 1 }]),
      )
    case 3:
      return peerUpdate(client, mirror, (doc) => doc.getArray('root').push([new Y.Text('no')]))
    case 4: {
      const doc = new Y.Doc()
      doc.clientID = client
      doc.getArray('root').push([{ k: 'first', v: 1 }])
      const after = Y.encodeStateVector(doc)
      doc.getArray('root').push([{ k: 'second', v: 2 }])
      return Y.encodeStateAsUpdate(doc, after) // depends on a change nobody has
    }
    default:
      // A valid small edit; a writer's is applied, everyone else's refused.
      return entryUpdate(client, mirror, `f${int(random, 20)}`, int(random, 1000))
  }
}

function awarenessPayload(random: Random): Uint8Array {
  const encoder = encoding.createEncoder()
  const count = int(random, 3)
  encoding.writeVarUint(encoder, count)
  for (let i = 0; i < count; i++) {
    encoding.writeVarUint(encoder, random() < 0.3 ? aliceMem.doc.clientID : int(random, 2 ** 32))
    encoding.writeVarUint(encoder, int(random, 10))
    encoding.writeVarString(
      encoder,
      pick(random, [
        '{"name":"fuzz"}',
        'null',
        '[1]',
        '"x"',
        '{',
        '{"a":' + '1'.repeat(int(random, 100)) + '}',
      ]),
    )
  }
  return encoding.toUint8Array(encoder)
}

/**
 * One frame of a random kind. On a `dirty` connection it is sometimes mutated afterwards,
 * or of no known type at all; either usually ends the connection (4400), so the clean
 * connections are the ones that get deep into the relay.
 */
function frame(random: Random, mirror: Y.Doc, seq: number, dirty: boolean): Uint8Array {
  const name = names(random)
  // AUTH after the first frame closes the socket (4401): dirty connections only.
  const type = dirty
    ? int(random, 13)
    : pick(random, [0, 0, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 9, 10])
  let bytes: Uint8Array
  switch (type) {
    case MessageType.sync:
      bytes = encodeMessage({ type, name, payload: syncPayload(random, mirror) })
      break
    case MessageType.update:
      bytes = updateFrame(name, random() < 0.9 ? seq : int(random, 2 ** 31), update(random, mirror))
      break
    case MessageType.ack:
      bytes = encodeMessage({ type, name, seq })
      break
    case MessageType.error:
      bytes = encodeMessage({ type, name, code: int(random, 20), message: 'from a client' })
      break
    case MessageType.close:
      bytes = encodeMessage({ type, name })
      break
    case MessageType.awareness:
      bytes = encodeMessage({ type, name, payload: awarenessPayload(random) })
      break
    case MessageType.ping:
    case MessageType.pong:
    case MessageType.authOk:
      bytes = encodeMessage({ type, name: random() < 0.8 ? '' : name } as Message)
      break
    case MessageType.auth:
      bytes = encodeMessage({ type, name: '', token: pick(random, Object.values(tokens)) })
      break
    case MessageType.access:
      bytes = encodeMessage({ type, name, access: pick(random, ['read', 'write'] as const) })
      break
    default:
      bytes = Uint8Array.from([int(random, 256), ...randomBytes(random, int(random, 40))])
  }
  const mutation = dirty ? random() : 1
  if (mutation < 0.15 && bytes.length > 0) {
    bytes = bytes.slice()
    for (let flips = 1 + int(random, 3); flips > 0; flips--)
      bytes[int(random, bytes.length)] = int(random, 256)
  } else if (mutation < 0.22) {
    bytes = bytes.slice(0, int(random, bytes.length + 1))
  } else if (mutation < 0.27) {
    bytes = Uint8Array.from([...bytes, ...randomBytes(random, 1 + int(random, 8))])
  }
  return bytes
}

const identities = ['none', 'write', 'write', 'read', 'other', 'expired', 'forged'] as const

interface Tally {
  frames: number
  connections: number
  errors: Map<number, number>
  closes: Map<number, number>
}

/** One worker: connection after connection, each with its identity, until its share is sent. */
async function campaign(worker: number, share: number, tally: Tally): Promise<void> {
  const random = prng(SEED * 1000 + worker)
  let sent = 0
  while (sent < share) {
    const identity = pick(random, identities)
    const token = identity === 'none' ? undefined : tokens[identity]
    const client = await RawClient.open(relay.url, token === undefined ? {} : { token })
    tally.connections++
    const start = sent
    if (random() < 0.7) {
      // Subscribed (the relay's SYNC step 1 or EPOCH arrived), refused, or closed: whichever comes.
      client.send(syncStep1(MEMORY, client.mirror))
      await client.until(
        () =>
          client.closed ??
          client.frames.find(
            (f) =>
              f.name === MEMORY &&
              (f.type === MessageType.error ||
                // A memory that moved to a new epoch answers an epoch-0 SYNC step 1 with EPOCH.
                f.type === MessageType.epoch ||
                (f.type === MessageType.sync && f.payload[0] === 0)),
          ),
        'an answer to SYNC step 1',
      )
    }
    const batch = 100 + int(random, 400)
    const dirty = random() < 0.3
    let seq = 0
    for (let i = 0; i < batch && sent < share && !client.closed; i++, sent++) {
      client.send(frame(random, client.mirror, ++seq, dirty))
      if (i % 50 === 49) await client.barrier(10_000)
    }
    if (!client.closed) await client.barrier(10_000)
    for (const error of client.errors())
      tally.errors.set(error.code, (tally.errors.get(error.code) ?? 0) + 1)
    if (client.closed)
      tally.closes.set(client.closed.code, (tally.closes.get(client.closed.code) ?? 0) + 1)
    client.close()
    tally.frames += sent - start
  }
}

it(
  `${FRAMES} fuzzed frames of every type and identity: the relay stays up, documented, bounded and consistent`,
  async () => {
    const heapBefore = heapUsed()
    const tally: Tally = { frames: 0, connections: 0, errors: new Map(), closes: new Map() }
    let editing = true
    let edits = 0
    // The honest clients keep editing throughout.
    const honest = (async () => {
      while (editing) {
        aliceMem.set('counter', ++edits)
        bobMem.set(`b${edits % 10}`, edits)
        await sleep(20)
      }
    })()
    const share = Math.ceil(FRAMES / WORKERS)
    await Promise.all(
      Array.from({ length: WORKERS }, (_, worker) => campaign(worker, share, tally)),
    )
    editing = false
    await honest

    console.log(
      `fuzz seed ${SEED}: ${tally.frames} frames over ${tally.connections} connections; ` +
        `errors ${JSON.stringify(Object.fromEntries(tally.errors))}; closes ${JSON.stringify(Object.fromEntries(tally.closes))}`,
    )
    expect(crashes).toEqual([])
    expect(relayErrors).toEqual([])
    for (const code of tally.errors.keys()) expect(documentedErrors).toContain(code)
    for (const code of tally.closes.keys()) expect(documentedCloses).toContain(code)
    // The campaign reached every kind of refusal it aims at.
    for (const code of [
      ErrorCode.invalidName,
      ErrorCode.malformedUpdate,
      ErrorCode.missingDependencies,
      ErrorCode.unsupportedContent,
      ErrorCode.badMessage,
      ErrorCode.forbidden,
      ErrorCode.clientIdTaken,
    ]) {
      expect(tally.errors.get(code) ?? 0, `ERROR ${code}`).toBeGreaterThan(0)
    }
    expect(tally.closes.get(CloseCode.unauthorized) ?? 0).toBeGreaterThan(0)
    expect(tally.closes.get(CloseCode.malformedFrame) ?? 0).toBeGreaterThan(0)

    // Honest clients converge with each other, with the relay and with Redis.
    await Promise.all([aliceMem.whenSynced(), bobMem.whenSynced()])
    await eventually(() => expect(bobMem.toJSON()).toEqual(aliceMem.toJSON()))
    expect(aliceMem.get('counter')).toBe(edits)
    const room = relay.relay.rooms.get(MEMORY)!
    await room.whenPersisted()
    expect(room.doc.store.pendingStructs).toBeNull()
    expect(room.doc.store.pendingDs).toBeNull()
    await eventually(async () =>
      expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(aliceMem.toJSON()),
    )
    expect(alice.errors).toEqual([])
    expect(bob.errors).toEqual([])

    // Nothing of the hostile connections stays: sessions, memories, owners.
    await eventually(() => expect(relay.relay.sessions.size).toBe(2))
    await eventually(() => expect([...relay.relay.rooms.keys()]).toEqual([MEMORY]))
    expect(room.sessions.size).toBe(2)
    expect(room.clientIds.size).toBeLessThanOrEqual(2)
    // Bounded memory: what the campaign left on the heap is small next to what it sent.
    const grown = heapUsed() - heapBefore
    expect(grown).toBeLessThan(48 * 1024 * 1024)
    // And the relay still takes newcomers.
    const newcomer = await RawClient.open(relay.url, { token: tokens.read! })
    expect(await newcomer.request(MEMORY)).toMatchObject({
      type: MessageType.access,
      access: 'read',
    })
    newcomer.close()
    expect(tally.frames).toBeGreaterThanOrEqual(FRAMES)
    console.log(`fuzz seed ${SEED}: heap +${(grown / 1024 / 1024).toFixed(1)} MiB`)
  },
  // A ceiling, not a speed check: 50,000 frames take ~12 s alone and over 60 s beside the rest of npm test.
  Math.max(240_000, FRAMES * 4),
)
