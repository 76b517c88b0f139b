/**
 * Operating a relay: `/healthz` follows Redis (503 while it is down, 200 once it is back),
 * `/metrics` is valid Prometheus text whose numbers move with traffic, and logs go through
 * any `{ info, warn, error }` logger, pino in the CLI with `--log-level` / `LOG_LEVEL`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPinoLogger, type RelayHandle } from '@remem/server'
import { runCliRelay, startCliRelay } from './cliRelay.ts'
import { connect, eventually, startRelay } from './helpers.ts'
import { parsePrometheus, sampleValue } from './promText.ts'
import { RawClient, syncStep1 } from './rawClient.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import * as Y from 'yjs'

let redis: RedisServer
let relay: RelayHandle
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  redis = await startRedis()
  relay = await startRelay({ redis: redis.url })
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await relay?.close()
  await redis?.stop()
})

const httpUrl = (handle: RelayHandle, path: string): string =>
  `${handle.url.replace(/^ws/, 'http')}${path}`

async function health(handle = relay): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(httpUrl(handle, '/healthz'))
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function scrapeOf(handle: RelayHandle) {
  const response = await fetch(httpUrl(handle, '/metrics'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheus(await response.text())
}

describe('/healthz', () => {
  it('is 200 while Redis answers, 503 while it is down, and 200 again once it is back', async () => {
    const client = connect(relay.url)
    cleanups.push(() => client.close())
    client.memory('health').set('x', 1)
    await client.memory('health').whenSynced()
    expect(await health()).toEqual({
      status: 200,
      body: { ok: true, store: 'redis', storeStatus: 'up', memories: 1, connections: 1 },
    })
    redis.kill()
    await eventually(async () => expect((await health()).status).toBe(503), { timeoutMs: 10_000 })
    expect((await health()).body).toMatchObject({ ok: false, storeStatus: 'down', memories: 1 })
    expect(sampleValue(await scrapeOf(relay), 'remem_store_up')).toBe(0)
    await redis.restart()
    await eventually(
      async () => expect(await health()).toMatchObject({ status: 200, body: { ok: true } }),
      {
        timeoutMs: 20_000,
      },
    )
    expect(sampleValue(await scrapeOf(relay), 'remem_store_up')).toBe(1)
  })

  it('is 200 on the embedded store, and anything else is 426', async () => {
    const embedded = await startRelay()
    cleanups.push(() => embedded.close())
    expect(await health(embedded)).toMatchObject({
      status: 200,
      body: { ok: true, store: 'embedded' },
    })
    expect((await fetch(httpUrl(embedded, '/'))).status).toBe(426)
  })
})

describe('/metrics', () => {
  it('is Prometheus text with every documented metric, and moves with traffic', async () => {
    // A relay of its own: on the shared one, the memory of the /healthz tests may unload
    // (idle) between the two scrapes and cancel the +1 this test expects of remem_memories.
    const relay = await startRelay({ redis: redis.url })
    cleanups.push(() => relay.close())
    const scrape = () => scrapeOf(relay)
    const text = await (await fetch(httpUrl(relay, '/metrics'))).text()
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]))
    expect(Object.fromEntries(types)).toEqual({
      remem_connections: 'gauge',
      remem_memories: 'gauge',
      remem_buffered_bytes: 'gauge',
      remem_store_up: 'gauge',
      remem_updates_total: 'counter',
      remem_acks_total: 'counter',
      remem_ack_latency_seconds: 'histogram',
      remem_ingests_total: 'counter',
      remem_projected_total: 'counter',
      remem_refusals_total: 'counter',
      remem_throttled_total: 'counter',
    })

    const before = await scrape()
    const client = connect(relay.url)
    cleanups.push(() => client.close())
    const mem = client.memory('metered')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    for (let i = 0; i < 5; i++) {
      mem.set(`k${i}`, i)
      await mem.whenSynced()
    }
    const hostile = await RawClient.open(relay.url)
    cleanups.push(() => hostile.close())
    hostile.send(syncStep1('not a name', new Y.Doc()))
    await hostile.until(() => hostile.errors()[0], 'ERROR')
    const redisClient = new Redis(redis.url)
    cleanups.push(() => redisClient.disconnect())
    await redisClient.set('memory:metered:external', JSON.stringify({ value: 42 }))
    await eventually(() => expect(mem.get('external')).toBe(42))

    await eventually(async () => {
      const after = await scrape()
      const delta = (name: string, labels: Record<string, string> = {}) =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels)
      expect(sampleValue(after, 'remem_connections')).toBe(
        sampleValue(before, 'remem_connections') + 2,
      )
      expect(delta('remem_memories')).toBe(1)
      expect(delta('remem_updates_total')).toBeGreaterThanOrEqual(5)
      expect(delta('remem_acks_total')).toBeGreaterThanOrEqual(5)
      expect(delta('remem_ack_latency_seconds_count')).toBe(delta('remem_acks_total'))
      expect(delta('remem_ack_latency_seconds_bucket', { le: '+Inf' })).toBe(
        delta('remem_acks_total'),
      )
      expect(delta('remem_ingests_total')).toBe(1)
      expect(delta('remem_projected_total')).toBeGreaterThanOrEqual(5)
      expect(delta('remem_refusals_total', { reason: 'invalidName' })).toBe(1)
    })
  })

  it('can be turned off', async () => {
    const quiet = await startRelay({ metrics: false })
    cleanups.push(() => quiet.close())
    expect(quiet.metrics).toBeNull()
    expect((await fetch(httpUrl(quiet, '/metrics'))).status).toBe(426)
  })
})

describe('logs', () => {
  it('createPinoLogger writes JSON lines at or above its level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remem-log-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const run = async (level: 'warn' | 'error', file: string) => {
      const logged = await startRelay({ logger: createPinoLogger({ level, destination: file }) })
      const client = await RawClient.open(logged.url)
      client.send(syncStep1('bad name', new Y.Doc()))
      await client.until(() => client.errors()[0], 'ERROR')
      client.close()
      await logged.close()
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    }
    const warnings = await run('warn', join(dir, 'warn.log'))
    expect(warnings.map((line) => line.msg)).toEqual([
      expect.stringMatching(/^open relay/),
      'refused a client request',
    ])
    expect(warnings[1]).toMatchObject({
      level: 40,
      name: 'remem-relay',
      code: 1,
      memory: 'bad name',
    })
    expect(await run('error', join(dir, 'error.log'))).toEqual([])
  })

  it('the CLI logs through pino at --log-level or LOG_LEVEL, and names a bad level', async () => {
    const warn = await startCliRelay(['--port', '0', '--log-level', 'warn'], {})
    await warn.stop()
    const lines = warn
      .output()
      .stderr.split('\n')
      .filter((line) => line.startsWith('{'))
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContainEqual(
      expect.stringMatching(/^open relay/),
    )

    const quiet = await startCliRelay(['--port', '0'], { LOG_LEVEL: 'error' })
    await quiet.stop()
    expect(quiet.output().stderr).not.toContain('open relay')

    const bad = await runCliRelay(['--port', '0', '--log-level', 'loud'], {})
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent',
    )
  })
})
