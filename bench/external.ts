/**
 * Issue 3: the projection, both ways.
 * - In: latency from an external write of `memory:NAME:key` (a plain ioredis SET of the
 *   wrapped JSON, as Python's redis-memory writes it) to the change arriving at a client.
 *   On the embedded store the same write goes through its Redis-like `projection.set`.
 * - Out: how often the relay writes projection keys while a client makes 1,000 updates a
 *   second to a few keys, and the coalescing ratio (client updates per projection write).
 */
import { Redis } from 'ioredis'
import { SyncedDict } from '@remem/client'
import { EmbeddedStore, type RelayHandle } from '@remem/server'
import {
  type BenchContext,
  type Cell,
  STORES,
  type StoreKind,
  type Suite,
  closeAll,
  connect,
  median,
  memoryName,
  now,
  quantile,
  round,
  sleep,
  startRelay,
  whenOnline,
} from './lib.ts'

const PREFIX = 'memory:'
const RUNS = 3
const SAMPLES = 100
const GAP_MS = 10
const ARRIVAL_TIMEOUT_MS = 2_000
const RATE = 1_000
const RATE_KEYS = 4
const RATE_DURATION_MS = 3_000
/** The relay's default `projectionCoalesceMs`. */
const COALESCE_MS = 50

/** The wrapped layout of Python's redis-memory: `{"value": …, "last_modified": <ns>}`. */
const wrapped = (value: unknown): string =>
  `{"value":${JSON.stringify(value)},"last_modified":${BigInt(Date.now()) * 1_000_000n}}`

/** Writes a raw string to a projection key the way another Redis client would. */
type ExternalSet = (fullKey: string, raw: string) => Promise<void>

async function externalWriter(ctx: BenchContext, relay: RelayHandle): Promise<ExternalSet> {
  if (relay.store instanceof EmbeddedStore) {
    const projection = relay.store.projection
    return async (fullKey, raw) => projection.set(fullKey, raw)
  }
  const redis = new Redis((await ctx.redis()).url)
  ctx.defer(() => redis.disconnect())
  return async (fullKey, raw) => {
    await redis.set(fullKey, raw)
  }
}

interface LatencyRun {
  latencies: number[]
  lost: number
  ingests: number
}

async function measureLatency(ctx: BenchContext, kind: StoreKind, relay: RelayHandle, set: ExternalSet): Promise<LatencyRun> {
  const name = memoryName(`ext-${kind}`)
  const client = connect(relay.url)
  try {
    const memory = client.memory(name)
    await whenOnline(memory)
    let waiting: { n: number; resolve: (latency: number) => void } | null = null
    memory.subscribe(() => {
      const ext = memory.get('ext')
      if (!(ext instanceof SyncedDict) || !waiting) return
      const n = ext.get('n')
      const sent = ext.get('sent')
      if (n === waiting.n && typeof sent === 'number') waiting.resolve(now() - sent)
    })
    const ingestsBefore = relay.relay.stats.ingests
    const latencies: number[] = []
    let lost = 0
    for (let n = 0; n < SAMPLES; n++) {
      const arrived = new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), ARRIVAL_TIMEOUT_MS)
        waiting = {
          n,
          resolve: (latency) => {
            clearTimeout(timer)
            resolve(latency)
          },
        }
      })
      const sent = now()
      await set(`${PREFIX}${name}:ext`, wrapped({ sent, n }))
      const latency = await arrived
      waiting = null
      if (latency === null) lost++
      else latencies.push(latency)
      await sleep(GAP_MS)
    }
    ctx.progress(`external ${kind}: p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms`)
    return { latencies, lost, ingests: relay.relay.stats.ingests - ingestsBefore }
  } finally {
    await closeAll([client])
  }
}

interface RateRun {
  updates: number
  seconds: number
  /** Projection writes counted by the relay (`stats.projected`). */
  projected: number
  /** SETs of the memory's projection keys seen in Redis keyspace events (Redis only). */
  redisSets: number | null
  /** External changes the relay ingested meanwhile: its own writes must not count. */
  ingests: number
}

async function measureRate(ctx: BenchContext, kind: StoreKind, relay: RelayHandle): Promise<RateRun> {
  const name = memoryName(`proj-${kind}`)
  const client = connect(relay.url)
  let subscriber: Redis | null = null
  try {
    let redisSets: number | null = null
    if (kind === 'redis') {
      // The relay has enabled keyspace notifications; count `set` events on this memory's keys.
      subscriber = new Redis((await ctx.redis()).url)
      redisSets = 0
      subscriber.on('pmessage', (_pattern: string, _channel: string, event: string) => {
        if (event === 'set') redisSets!++
      })
      await subscriber.psubscribe(`__keyspace@0__:${PREFIX}${name}:*`)
    }
    const memory = client.memory(name)
    await whenOnline(memory)
    const before = { ...relay.relay.stats }
    const start = now()
    let updates = 0
    for (;;) {
      const elapsed = now() - start
      if (elapsed >= RATE_DURATION_MS) break
      const due = Math.floor((elapsed * RATE) / 1000)
      for (; updates < due; updates++) memory.set(`k${updates % RATE_KEYS}`, updates)
      await sleep(1)
    }
    const seconds = (now() - start) / 1000
    await memory.whenSynced()
    // Let the last coalesced projection write (and its keyspace event) land.
    await sleep(COALESCE_MS * 4 + 100)
    const projected = relay.relay.stats.projected - before.projected
    const ingests = relay.relay.stats.ingests - before.ingests
    ctx.progress(`projection ${kind}: ${updates} updates → ${redisSets ?? projected} projection writes`)
    return { updates, seconds, projected, redisSets, ingests }
  } finally {
    if (subscriber) subscriber.disconnect()
    await closeAll([client])
  }
}

export const external: Suite = {
  name: 'external',
  issue: 3,
  title: 'projection: external write → client latency; projection write rate',
  async run(ctx) {
    const latencyRows: Cell[][] = []
    const rateRows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const kind of STORES) {
      const relay = await startRelay(ctx, kind)
      const set = await externalWriter(ctx, relay)
      const latency: LatencyRun[] = []
      for (let run = 0; run < RUNS; run++) latency.push(await measureLatency(ctx, kind, relay, set))
      const rate: RateRun[] = []
      for (let run = 0; run < RUNS; run++) rate.push(await measureRate(ctx, kind, relay))
      await relay.close()

      const p = (q: number): number => round(median(latency.map((r) => quantile(r.latencies, q))), 2)
      const lost = latency.reduce((s, r) => s + r.lost, 0)
      const ingests = latency.reduce((s, r) => s + r.ingests, 0)
      const lat = { p50: p(0.5), p99: p(0.99), max: round(median(latency.map((r) => Math.max(...r.latencies))), 2), lost, ingests, sent: RUNS * SAMPLES }
      latencyRows.push([kind, lat.p50, lat.p99, lat.max, `${lat.sent - lost}/${lat.sent}`, ingests])

      const writes = (r: RateRun): number => r.redisSets ?? r.projected
      const med = (of: (r: RateRun) => number): number => median(rate.map(of))
      const out = {
        updatesPerSec: round(med((r) => r.updates / r.seconds)),
        projectionWritesPerSec: round(med((r) => writes(r) / r.seconds), 1),
        coalescingRatio: round(med((r) => r.updates / Math.max(1, writes(r))), 1),
        projectedStat: round(med((r) => r.projected)),
        redisSets: kind === 'redis' ? round(med((r) => r.redisSets ?? 0)) : null,
        ownWritesIngested: rate.reduce((s, r) => s + r.ingests, 0),
      }
      rateRows.push([
        kind,
        out.updatesPerSec,
        out.redisSets,
        out.projectedStat,
        out.projectionWritesPerSec,
        out.coalescingRatio,
        out.ownWritesIngested,
      ])
      figures[kind] = { latency: lat, projection: out }
    }
    return {
      tables: [
        {
          title: `external write → client, ms, median of ${RUNS} runs × ${SAMPLES} writes`,
          columns: ['store', 'p50', 'p99', 'max', 'arrived', 'ingests'],
          rows: latencyRows,
          notes: [
            `redis: plain ioredis SET ${PREFIX}NAME:ext '{"value":{"sent":<performance.now()>,"n":i},"last_modified":<ns>}'; embedded: EmbeddedStore.projection.set (same text)`,
            `one write at a time: wait for arrival at the client's mem.subscribe (or ${ARRIVAL_TIMEOUT_MS} ms), then ${GAP_MS} ms gap; ingests = relay.relay.stats.ingests`,
          ],
        },
        {
          title: `projection writes under ${RATE.toLocaleString('en-US')} client updates/s to ${RATE_KEYS} keys, ${RATE_DURATION_MS / 1000} s, median of ${RUNS} runs`,
          columns: ['store', 'client upd/s', 'redis SETs', 'stats.projected', 'proj writes/s', 'coalescing', 'own writes ingested'],
          rows: rateRows,
          notes: [
            `redis SETs: keyspace 'set' events on ${PREFIX}NAME:* during the run; proj writes/s uses them on redis, stats.projected on embedded`,
            `coalescing = client updates ÷ projection writes (projectionCoalesceMs ${COALESCE_MS}); "own writes ingested" must stay 0`,
          ],
        },
      ],
      figures: { runs: RUNS, samples: SAMPLES, rate: RATE, rateKeys: RATE_KEYS, rateDurationMs: RATE_DURATION_MS, ...figures },
    }
  },
}
