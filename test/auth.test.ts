/**
 * Tokens and access, against a relay with a secret on a real redis-server: no token, a
 * forged token, an expired token, a token for another memory and a write with a read token
 * are each refused as docs/PROTOCOL.md says, and neither Redis nor the other clients show
 * anything of them. Also: a token that expires while connected, read-only clients, the
 * authorize hook, the open relay's startup warning, and `remem-relay token`.
 */
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, type Memory, type RememClient } from '@remem/client'
import { CloseCode, ErrorCode, MessageType } from '@remem/client/protocol'
import { type Logger, type RelayHandle, createToken } from '@remem/server'
import { runCliRelay } from './cliRelay.ts'
import { connect, eventually, readMemoryFromRedis, sleep, startRelay } from './helpers.ts'
import { RawClient, entryUpdate, updateFrame } from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const SECRET = 'test-secret-0123456789-abcdefghijklmnop'
const MEMORY = 'board'

let redis: RedisServer
let redisClient: Redis
let relay: RelayHandle
let writer: RememClient & { errors: Error[] }
let board: Memory
const relayErrors: string[] = []
const logger: Logger = {
  info() {},
  warn() {},
  error: (message, data) => relayErrors.push(`${message} ${JSON.stringify(data ?? {})}`),
}
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  redis = await startRedis()
  redisClient = new Redis(redis.url)
  relay = await startRelay({ redis: redis.url, secret: SECRET, logger })
  writer = connect(relay.url, {
    token: await createToken(SECRET, { memories: [MEMORY, 'team-*'] }),
  })
  board = writer.memory(MEMORY)
  board.set('title', 'plans')
  await board.whenSynced()
  // The projection follows the log; wait for it so that later comparisons start settled.
  await eventually(async () => expect(await redisClient.exists(`memory:${MEMORY}:title`)).toBe(1))
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  expect(relayErrors).toEqual([])
  expect(writer.errors).toEqual([])
})

afterAll(async () => {
  await writer?.close()
  await relay?.close()
  redisClient?.disconnect()
  await redis?.stop()
})

async function raw(options: { token?: string } = {}, url = relay.url): Promise<RawClient> {
  const client = await RawClient.open(url, options)
  cleanups.push(() => client.close())
  return client
}

/** Every key in Redis with its content, once two reads 50 ms apart agree. */
async function redisState(): Promise<Record<string, string>> {
  await relay.relay.rooms.get(MEMORY)?.whenPersisted()
  let previous = await readRedis()
  for (;;) {
    await sleep(50)
    const next = await readRedis()
    if (JSON.stringify(next) === JSON.stringify(previous)) return next
    previous = next
  }
}

async function readRedis(): Promise<Record<string, string>> {
  const state: Record<string, string> = {}
  for (const key of (await redisClient.keys('*')).sort()) {
    const type = await redisClient.type(key)
    if (type === 'string') state[key] = (await redisClient.getBuffer(key))!.toString('base64')
    else if (type === 'stream') state[key] = `stream of ${await redisClient.xlen(key)}`
    else if (type === 'hash') state[key] = JSON.stringify(await redisClient.hgetall(key))
    else state[key] = type
  }
  return state
}

/** Redis, the writer's copy and the relay's room, checked unchanged after `attempt`. */
async function expectNothingOf(attempt: () => Promise<void>): Promise<void> {
  const before = { redis: await redisState(), writer: board.toJSON() }
  await attempt()
  await sleep(100)
  expect(await redisState()).toEqual(before.redis)
  expect(board.toJSON()).toEqual(before.writer)
  expect((await readMemoryFromRedis(redis.url, MEMORY)).json).toEqual(before.writer)
}

describe('refused as documented, leaving nothing behind', () => {
  it('no token: every memory is ERROR forbidden at SYNC step 1; its UPDATEs are never applied', async () => {
    await expectNothingOf(async () => {
      const client = await raw()
      const answer = await client.request(MEMORY)
      expect(answer).toMatchObject({ type: MessageType.error, code: ErrorCode.forbidden })
      client.send(updateFrame(MEMORY, 1, entryUpdate(9001, client.mirror, 'title', 'hacked')))
      expect(await client.barrier()).toBeNull()
      expect(client.acks()).toEqual([])
      // Nothing of the memory was sent (no SYNC, no ACCESS); the UPDATE was not taken either.
      expect(client.frames.filter((f) => f.name === MEMORY)).toEqual([
        expect.objectContaining({ type: MessageType.error, code: ErrorCode.forbidden }),
        expect.objectContaining({ type: MessageType.error, code: ErrorCode.badMessage }),
      ])
    })
  })

  it('no token: a real client gets AuthError and sees nothing', async () => {
    const errors: Error[] = []
    const anonymous = connect(relay.url, { onError: (error) => errors.push(error) })
    cleanups.push(() => anonymous.close())
    const mem = anonymous.memory(MEMORY)
    await eventually(() => expect(errors.some((e) => e instanceof AuthError)).toBe(true))
    expect(mem.toJSON()).toEqual({})
  })

  it('a forged token (another secret, or not a JWT) closes the socket with 4401 at AUTH', async () => {
    const forged = await createToken('another-secret-0123456789-abcdefghijk', { memories: ['*'] })
    for (const token of [forged, 'not-a-token', `${forged.slice(0, -4)}AAAA`]) {
      await expectNothingOf(async () => {
        const client = await raw({ token })
        client.send(updateFrame(MEMORY, 1, entryUpdate(9002, client.mirror, 'title', 'forged')))
        const closed = await client.whenClosed()
        expect(closed.code).toBe(CloseCode.unauthorized)
        expect(closed.reason).toMatch(/not valid/)
        expect(client.frames.map((f) => f.type)).not.toContain(MessageType.authOk)
      })
    }
  })

  it('an unsigned token (alg none) and one with the claims changed close with 4401', async () => {
    const payload = { mem: ['*'], acc: 'write', exp: Math.floor(Date.now() / 1000) + 60 }
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const unsigned = `${encode({ alg: 'none' })}.${encode(payload)}.`
    const real = await createToken(SECRET, { memories: ['other'], access: 'read' })
    const [header, , signature] = real.split('.')
    const tampered = `${header}.${encode(payload)}.${signature}`
    for (const token of [unsigned, tampered]) {
      const client = await raw({ token })
      expect((await client.whenClosed()).code).toBe(CloseCode.unauthorized)
    }
  })

  it('an expired token closes the socket with 4401, saying it expired', async () => {
    const expired = await createToken(SECRET, { memories: [MEMORY], expiresIn: -10 })
    await expectNothingOf(async () => {
      const client = await raw({ token: expired })
      const closed = await client.whenClosed()
      expect(closed).toEqual({
        code: CloseCode.unauthorized,
        reason: expect.stringMatching(/expired/) as string,
      })
    })
  })

  it('a token for another memory: ERROR forbidden for this one, ACCESS for its own', async () => {
    const token = await createToken(SECRET, { memories: ['other', 'team-*'] })
    await expectNothingOf(async () => {
      const client = await raw({ token })
      expect(await client.request(MEMORY)).toMatchObject({
        type: MessageType.error,
        code: ErrorCode.forbidden,
      })
      expect(await client.request('teamwork')).toMatchObject({ code: ErrorCode.forbidden })
      expect(await client.request('other')).toMatchObject({
        type: MessageType.access,
        access: 'write',
      })
      expect(await client.request('team-7')).toMatchObject({
        type: MessageType.access,
        access: 'write',
      })
      client.send(updateFrame(MEMORY, 1, entryUpdate(9003, client.mirror, 'title', 'elsewhere')))
      expect(await client.barrier()).toBeNull()
      expect(client.acks()).toEqual([])
    })
    expect(relay.relay.rooms.has('teamwork')).toBe(false)
  })

  it('a write with a read token: ACCESS read, then ERROR forbidden; nothing applied, stored or fanned out', async () => {
    const token = await createToken(SECRET, { memories: [MEMORY], access: 'read' })
    const watcher = await raw({ token })
    await watcher.subscribe(MEMORY)
    await expectNothingOf(async () => {
      const client = await raw({ token })
      expect(await client.request(MEMORY)).toMatchObject({
        type: MessageType.access,
        access: 'read',
      })
      await client.subscribe(MEMORY)
      const from = client.frames.length
      for (let seq = 1; seq <= 3; seq++) {
        client.send(updateFrame(MEMORY, seq, entryUpdate(9004, client.mirror, `k${seq}`, seq)))
      }
      await client.until(
        () => (client.refusals(from).length === 3 ? true : undefined),
        'three refusals',
      )
      expect(client.refusals(from).map((e) => e.code)).toEqual([
        ErrorCode.forbidden,
        ErrorCode.forbidden,
        ErrorCode.forbidden,
      ])
      expect(client.acks()).toEqual([])
    })
    // The other reader got no SYNC update from it.
    expect(watcher.frames.filter((f) => f.type === MessageType.sync)).toHaveLength(2)
  })

  it('a read-only client reads live changes and throws AuthError on local writes instead of diverging', async () => {
    const reader = connect(relay.url, {
      token: await createToken(SECRET, { memories: [MEMORY], access: 'read' }),
    })
    cleanups.push(() => reader.close())
    const mem = reader.memory(MEMORY)
    await eventually(() => expect(mem.access).toBe('read'))
    await eventually(() => expect(mem.get('title')).toBe('plans'))
    expect(() => mem.set('title', 'mine')).toThrow(AuthError)
    expect(() => mem.delete('title')).toThrow(AuthError)
    expect(mem.get('title')).toBe('plans')
    expect(mem.status.pending).toBe(0)
    board.set('live', 1)
    await eventually(() => expect(mem.get('live')).toBe(1))
    expect(reader.errors).toEqual([])
    board.delete('live')
    await board.whenSynced()
  })
})

describe('tokens over time', () => {
  it('a token that expires while connected closes with 4401; the client asks for a new one and resumes', async () => {
    let calls = 0
    const client = connect(relay.url, {
      token: () =>
        createToken(SECRET, { memories: ['team-expiry'], expiresIn: ++calls === 1 ? 1 : 60 }),
    })
    cleanups.push(() => client.close())
    const mem = client.memory('team-expiry')
    mem.set('before', 1)
    await mem.whenSynced()
    await eventually(
      () =>
        expect(client.errors.some((e) => e instanceof AuthError && /expired/.test(e.message))).toBe(
          true,
        ),
      {
        timeoutMs: 5_000,
      },
    )
    await eventually(() => expect(mem.status.connection).toBe('online'))
    expect(calls).toBeGreaterThanOrEqual(2)
    mem.set('after', 2)
    await mem.whenSynced()
    expect((await readMemoryFromRedis(redis.url, 'team-expiry')).json).toMatchObject({
      before: 1,
      after: 2,
    })
  })

  it('a refused static token is retried with growing backoff, not in a tight loop', async () => {
    const opened: number[] = []
    const expired = await createToken(SECRET, { memories: [MEMORY], expiresIn: -10 })
    const client = connect(relay.url, { token: expired, backoff: { minMs: 20, maxMs: 5_000 } })
    cleanups.push(() => client.close())
    client.connection.subscribe(() => {
      if (client.connection.state === 'online') opened.push(Date.now())
    })
    await sleep(1_500)
    // Without growing backoff (the socket opens each time) this would be dozens.
    expect(opened.length).toBeLessThan(12)
    expect(client.errors.every((e) => e instanceof AuthError)).toBe(true)
  })

  it('AUTH anywhere but first closes with 4401', async () => {
    const client = await raw()
    client.send(updateFrame('x', 1, new Uint8Array([0, 0])))
    client.send(new Uint8Array([MessageType.auth, 0, 0]))
    expect((await client.whenClosed()).code).toBe(CloseCode.unauthorized)
  })
})

describe('the authorize hook', () => {
  it('decides per memory from the token and the upgrade request; a throw counts as none', async () => {
    const errors: string[] = []
    const seen: Array<{ token: string | null; memory: string; address: string | undefined }> = []
    const hooked = await startRelay({
      redis: redis.url,
      logger: { info() {}, warn() {}, error: (message) => errors.push(message) },
      authorize: ({ token, memory, request }) => {
        seen.push({ token, memory, address: request.socket.remoteAddress })
        if (memory === 'boom') throw new Error('database down')
        if (memory.startsWith('public-')) return token === 'alpha' ? 'write' : 'read'
        return token === 'alpha' ? 'write' : 'none'
      },
    })
    cleanups.push(() => hooked.close())
    const alpha = await raw({ token: 'alpha' }, hooked.url)
    const anonymous = await raw({}, hooked.url)
    await alpha.until(() => alpha.frames.find((f) => f.type === MessageType.authOk), 'AUTH_OK')
    expect(await alpha.request('private')).toMatchObject({
      type: MessageType.access,
      access: 'write',
    })
    expect(await anonymous.request('private')).toMatchObject({
      type: MessageType.error,
      code: ErrorCode.forbidden,
    })
    expect(await anonymous.request('public-news')).toMatchObject({
      type: MessageType.access,
      access: 'read',
    })
    expect(await alpha.request('boom')).toMatchObject({
      type: MessageType.error,
      code: ErrorCode.forbidden,
    })
    expect(errors).toEqual(['authorize threw; refusing'])
    expect(seen).toContainEqual({ token: 'alpha', memory: 'private', address: '127.0.0.1' })
    expect(seen).toContainEqual({ token: null, memory: 'public-news', address: '127.0.0.1' })
  })
})

describe('open relays and the token command', () => {
  it('a relay without secret or hook says at startup that it is open; one with a secret does not', async () => {
    const lines: string[] = []
    const capture: Logger = {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    }
    const open = await startRelay({ logger: capture })
    await open.close()
    expect(lines.filter((line) => line.startsWith('open relay'))).toHaveLength(1)
    lines.length = 0
    const closed = await startRelay({ logger: capture, secret: SECRET })
    await closed.close()
    expect(lines.filter((line) => line.startsWith('open relay'))).toEqual([])
  })

  it('refuses a secret shorter than 32 characters, naming the fix', async () => {
    await expect(startRelay({ secret: 'short' })).rejects.toThrow(
      /at least 32 characters.*openssl rand/,
    )
  })

  it('`remem-relay token` prints a token the relay accepts, with the access asked for', async () => {
    const result = await runCliRelay(
      ['token', '--memory', 'team-*', '--access', 'read', '--expires', '10m'],
      {
        REMEM_SECRET: SECRET,
      },
    )
    expect(result.code).toBe(0)
    const token = result.stdout.trim()
    expect(token.split('.')).toHaveLength(3)
    const client = await raw({ token })
    expect(await client.request('team-cli')).toMatchObject({
      type: MessageType.access,
      access: 'read',
    })
    expect(await client.request(MEMORY)).toMatchObject({ code: ErrorCode.forbidden })

    const missing = await runCliRelay(['token', '--memory', 'x'], {})
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('REMEM_SECRET')
  })

  it('createToken refuses what cannot work', async () => {
    await expect(createToken(SECRET, { memories: [] })).rejects.toThrow(/at least one memory/)
    await expect(createToken(SECRET, { memories: ['a:b'] })).rejects.toThrow(/pattern/)
    await expect(createToken(SECRET, { memories: ['a*b'] })).rejects.toThrow(/pattern/)
    // A token from another issuer with the same secret but without remem's claims is refused.
    const bare = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET))
    const client = await raw({ token: bare })
    expect((await client.whenClosed()).code).toBe(CloseCode.unauthorized)
  })
})
