/**
 * The relay inspector (`createRelay({ inspect: true })`, `remem-relay --inspect`) on a real
 * redis-server with two relays: it lists the memories of both, shows sizes that match what
 * Redis holds (read here with plain commands), connections with presence, projection keys
 * with TTLs, rates, refusals and the tail; it is closed (401) without a token signed by the
 * relay's secret, read-only with a read token, and off unless asked for.
 */
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docToJSON } from '@remem/client/protocol'
import type { Memory, RememClient } from '@remem/client'
import { type RelayHandle, createToken } from '@remem/server'
import { parseCliArgs } from '../packages/server/src/cliArgs.ts'
import { connect, eventually, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const SECRET = 'inspector-secret-0123456789-abcdefghij'
const httpOf = (relay: RelayHandle): string => relay.url.replace(/^ws:/, 'http:')

let redis: RedisServer
let direct: Redis
let relayA: RelayHandle
let relayB: RelayHandle
let writeToken: string
let readToken: string
const clients: RememClient[] = []
let alpha: Memory
let beta: Memory

interface Report {
  more: string[]
  relay: { store: string; connections: number }
  memories: Array<{
    name: string
    access: string
    loaded: boolean
    sessions: Array<{ id: number; presence: Array<{ clientId: number; state: unknown }> }>
    document: { encodedBytes: number; jsonBytes: number; keys: number }
    stored: {
      snapshotBytes: number
      compactedUpTo: string | null
      logLength: number
      logBytes: number
    }
    projection: Array<{ key: string; ttlMs: number | null; bytes: number }>
    updatesPerSecond: number
    acksPerSecond: number
    refusals: Array<{ at: number; reason: string }>
  }>
  tail: Array<{ memory: string; from: string; bytes: number }>
}

async function report(
  relay: RelayHandle,
  token: string | null,
): Promise<{ status: number; body: Report & { error?: string } }> {
  const response = await fetch(`${httpOf(relay)}/inspect/data`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, body: (await response.json()) as Report & { error?: string } }
}

const memoryIn = (body: Report, name: string) => {
  const found = body.memories.find((memory) => memory.name === name)
  if (!found)
    throw new Error(`${name} not listed: ${body.memories.map((memory) => memory.name).join(', ')}`)
  return found
}

beforeAll(async () => {
  redis = await startRedis()
  direct = new Redis(redis.url)
  relayA = await startRelay({ redis: redis.url, secret: SECRET, inspect: true, compactAfter: 5 })
  relayB = await startRelay({ redis: redis.url, secret: SECRET, inspect: true })
  writeToken = await createToken(SECRET, { memories: '*', access: 'write' })
  readToken = await createToken(SECRET, { memories: '*', access: 'read' })
  const a = connect(relayA.url, { storage: 'memory', token: writeToken })
  const b = connect(relayB.url, { storage: 'memory', token: writeToken })
  clients.push(a, b)
  alpha = a.memory('alpha')
  beta = b.memory('beta')
  // One log entry each, so that relay A compacts (compactAfter: 5).
  for (let i = 0; i < 8; i++) {
    alpha.set(`k${i % 3}`, { n: i, text: 'x'.repeat(i * 10) })
    await alpha.whenSynced()
  }
  alpha.set('session', { user: 'ada' }, { ttl: 60_000 })
  beta.set('only', 'on relay B')
  await Promise.all([alpha.whenSynced(), beta.whenSynced()])
  alpha.presence.setState({ name: 'Ada' })
  await eventually(async () =>
    expect(await direct.exists('memory:alpha:session', 'memory:beta:only')).toBe(2),
  )
  await eventually(async () => expect(await direct.exists('remem:{memory:alpha}:snapshot')).toBe(1))
})

afterAll(async () => {
  for (const client of clients) await client.close()
  await relayA?.close()
  await relayB?.close()
  direct?.disconnect()
  await redis?.stop()
})

describe('relay inspector', () => {
  it('refuses requests without a valid token with 401, and serves its page', async () => {
    expect((await report(relayA, null)).status).toBe(401)
    expect((await report(relayA, 'not-a-token')).status).toBe(401)
    const forged = await createToken('another-secret-0123456789-abcdefghijkl', { memories: '*' })
    const refused = await report(relayA, forged)
    expect(refused.status).toBe(401)
    expect(refused.body.error).toMatch(/token/)
    expect(refused.body.memories).toBeUndefined()
    const page = await fetch(`${httpOf(relayA)}/inspect`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('remem relay inspector')
  })

  it('lists the memories of both relays on one Redis', async () => {
    for (const relay of [relayA, relayB]) {
      const { status, body } = await report(relay, readToken)
      expect(status).toBe(200)
      expect(body.relay.store).toBe('redis')
      expect(body.memories.map((memory) => memory.name)).toEqual(
        expect.arrayContaining(['alpha', 'beta']),
      )
    }
    const { body } = await report(relayA, readToken)
    expect(memoryIn(body, 'alpha').loaded).toBe(true)
    expect(memoryIn(body, 'beta').loaded).toBe(false)
    expect(body.more).toEqual([])
    const one = await fetch(`${httpOf(relayA)}/inspect/data?memory=beta`, {
      headers: { authorization: `Bearer ${readToken}` },
    })
    expect(((await one.json()) as Report).memories.map((memory) => memory.name)).toEqual(['beta'])
  })

  it('shows document, snapshot and log sizes that match Redis', async () => {
    const { body } = await report(relayB, readToken)
    for (const name of ['alpha', 'beta']) {
      const base = `remem:{memory:${name}}`
      const shown = memoryIn(body, name)
      const entries = await direct.xrangeBuffer(`${base}:log`, '-', '+')
      const snapshot = await direct.getBuffer(`${base}:snapshot`)
      expect(shown.stored.logLength).toBe(await direct.xlen(`${base}:log`))
      expect(shown.stored.logLength).toBe(entries.length)
      expect(shown.stored.snapshotBytes).toBe(snapshot?.byteLength ?? 0)
      const logBytes = entries.reduce((sum, [, fields]) => sum + fields[1]!.byteLength, 0)
      expect(shown.stored.logBytes).toBe(logBytes)
      // The document as rebuilt from exactly those bytes.
      const doc = new Y.Doc()
      if (snapshot) Y.applyUpdate(doc, snapshot.subarray(snapshot.indexOf(124) + 1))
      for (const [, fields] of entries) Y.applyUpdate(doc, fields[1]!)
      const json = docToJSON(doc)
      expect(shown.document.jsonBytes).toBe(Buffer.byteLength(JSON.stringify(json)))
      expect(shown.document.keys).toBe(Object.keys(json).length)
      expect(shown.document.encodedBytes).toBeGreaterThan(0)
    }
    // alpha was compacted (compactAfter: 5 on relay A): a snapshot and a short log.
    const compacted = memoryIn(body, 'alpha').stored
    expect(compacted.snapshotBytes).toBeGreaterThan(0)
    const snapshot = (await direct.getBuffer('remem:{memory:alpha}:snapshot'))!
    expect(compacted.compactedUpTo).toBe(snapshot.subarray(0, snapshot.indexOf(124)).toString())
    expect(compacted.compactedUpTo).toMatch(/^\d+-\d+$/)
  })

  it('shows connections with presence, projection keys with TTLs, rates and the tail', async () => {
    const { body } = await report(relayA, readToken)
    const shown = memoryIn(body, 'alpha')
    expect(shown.sessions).toHaveLength(1)
    await eventually(async () => {
      const again = memoryIn((await report(relayA, readToken)).body, 'alpha')
      expect(again.sessions[0]!.presence.map((peer) => peer.state)).toEqual([{ name: 'Ada' }])
    })
    const session = shown.projection.find((key) => key.key === 'memory:alpha:session')!
    const ttl = await direct.pttl('memory:alpha:session')
    expect(session.ttlMs).not.toBeNull()
    expect(Math.abs(session.ttlMs! - ttl)).toBeLessThan(5_000)
    expect(session.bytes).toBe(await direct.strlen('memory:alpha:session'))
    expect(shown.projection.find((key) => key.key === 'memory:alpha:k0')!.ttlMs).toBeNull()
    expect(shown.updatesPerSecond).toBeGreaterThan(0)
    expect(shown.acksPerSecond).toBeGreaterThan(0)
    // Relay B loaded beta, not alpha: no rates there.
    expect(memoryIn((await report(relayB, readToken)).body, 'alpha').updatesPerSecond).toBe(0)
    alpha.set('late', 1)
    await alpha.whenSynced()
    await eventually(async () => {
      const { tail } = (await report(relayA, readToken)).body
      expect(tail.some((entry) => entry.memory === 'alpha' && entry.from === 'client')).toBe(true)
    })
  })

  it('lists a refusal with its reason', async () => {
    let token = writeToken
    const c = connect(relayA.url, { storage: 'memory', token: () => token })
    clients.push(c)
    const refused = c.memory('alpha')
    await eventually(() => expect(refused.access).toBe('write'))
    c.inspector.setOffline(true)
    refused.set('blocked', true)
    token = readToken
    c.inspector.setOffline(false)
    await eventually(async () => {
      const shown = memoryIn((await report(relayA, readToken)).body, 'alpha')
      expect(shown.refusals.map((refusal) => refusal.reason)).toContainEqual(
        expect.stringMatching(/^forbidden: /),
      )
    })
  })

  it('writes only with a token that has write access to the memory', async () => {
    const write = (token: string) =>
      fetch(`${httpOf(relayB)}/inspect/write`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ memory: 'alpha', key: 'fromInspector', value: { ok: true } }),
      })
    expect((await write(readToken)).status).toBe(403)
    expect(alpha.has('fromInspector')).toBe(false)
    expect((await write(writeToken)).status).toBe(200)
    await eventually(() => expect(alpha.toJSON().fromInspector).toEqual({ ok: true }))
    const readOnly = memoryIn((await report(relayB, readToken)).body, 'alpha')
    expect(readOnly.access).toBe('read')
    const onlyAlpha = await createToken(SECRET, { memories: 'alpha', access: 'write' })
    expect((await report(relayB, onlyAlpha)).body.memories.map((memory) => memory.name)).toEqual([
      'alpha',
    ])
  })

  it('asks the authorize hook, with the HTTP request, when the relay has one', async () => {
    const hooked = await startRelay({
      redis: redis.url,
      inspect: true,
      authorize: ({ token, memory, request }) =>
        token === 'ops' && request.headers['x-team'] === 'ops' && memory === 'beta'
          ? 'read'
          : 'none',
    })
    try {
      const get = (headers: Record<string, string>) =>
        fetch(`${httpOf(hooked)}/inspect/data`, { headers })
      expect((await get({})).status).toBe(401)
      const allowed = (await (
        await get({ authorization: 'Bearer ops', 'x-team': 'ops' })
      ).json()) as Report
      expect(allowed.memories.map((memory) => memory.name)).toEqual(['beta'])
      const other = (await (await get({ authorization: 'Bearer ops' })).json()) as Report
      expect(other.memories).toEqual([])
    } finally {
      await hooked.close()
    }
  })

  it('is on with --inspect or REMEM_INSPECT=1 and off otherwise', () => {
    const run = (argv: string[], env: Record<string, string> = {}) => {
      const command = parseCliArgs(argv, env)
      if (command.kind !== 'run') throw new Error(`not a run: ${command.kind}`)
      return command.options.inspect
    }
    expect(run(['--inspect'])).toBe(true)
    expect(run([], { REMEM_INSPECT: '1' })).toBe(true)
    expect(run([])).toBeUndefined()
  })

  it('on the embedded store, lists memories no longer loaded, and an open relay needs no token', async () => {
    const embedded = await startRelay({ inspect: true })
    try {
      const c = connect(embedded.url, { storage: 'memory' })
      const mem = c.memory('kept')
      mem.set('a', [1, 2])
      await mem.whenSynced()
      await c.close()
      // idleUnloadMs: 200 in the helpers: the memory leaves the relay, stays in the store.
      await eventually(() => expect(embedded.relay.rooms.has('kept')).toBe(false))
      const { status, body } = await report(embedded, null)
      expect(status).toBe(200)
      expect(body.relay.store).toBe('embedded')
      const kept = memoryIn(body, 'kept')
      expect(kept).toMatchObject({ loaded: false, access: 'write', projection: [] })
      expect(kept.document.jsonBytes).toBe(Buffer.byteLength(JSON.stringify({ a: [1, 2] })))
      expect(kept.stored.logLength).toBeGreaterThan(0)
    } finally {
      await embedded.close()
    }
  })

  it('is off unless asked for', async () => {
    const plain = await startRelay({ redis: redis.url })
    try {
      const response = await fetch(`${httpOf(plain)}/inspect/data`)
      expect(response.status).toBe(426)
    } finally {
      await plain.close()
    }
  })
})
