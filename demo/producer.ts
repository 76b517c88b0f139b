/**
 * The dashboard's producer: a stand-in for any service that writes metrics into Redis
 * without knowing about remem. Every `intervalMs` it writes `cpu`, `memory` and `rps` of
 * memory `dashboard` straight to their plain keys, in the projection layout
 * (`memory:dashboard:cpu` = `{"value": 42.5, "last_modified": <ns>}`); the relay turns each
 * write into a change that reaches every browser.
 *
 * When someone else writes a metric (redis-cli, a test, the demo's "random" button), the
 * producer leaves that metric alone for `quietMs`, so the foreign value stays on screen,
 * then takes over again. Writes are compare-and-set, so one never overwrites a foreign value
 * it has not seen.
 *
 * Standalone, on Redis (`demo/server.ts` runs it in-process, on Redis or the embedded store):
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx demo/producer.ts
 */
import { pathToFileURL } from 'node:url'

/** Where the producer writes: Redis, or the embedded store's projection. */
export interface ProducerTarget {
  /** Like GET. */
  get(key: string): Promise<string | null>
  /** Sets `key` to `text` only if it still holds `expected` (null: absent); returns whether it did. */
  setIf(key: string, expected: string | null, text: string): Promise<boolean>
}

export interface ProducerOptions {
  /** Memory the metrics belong to. @default 'dashboard' */
  memory?: string
  /** Prefix of projection keys. @default 'memory:' */
  prefix?: string
  /** Time between writes, in ms. @default 500 */
  intervalMs?: number
  /** How long a metric someone else wrote is left alone, in ms. @default 15000 */
  quietMs?: number
  /** Called with errors (Redis unreachable…); the producer keeps going. @default console.warn */
  onError?: (error: unknown) => void
}

export interface Producer {
  /** Stops after the write in flight, if any. */
  stop(): Promise<void>
}

/** A metric: a bounded random walk. */
interface Metric {
  key: string
  min: number
  max: number
  step: number
  decimals: number
  value: number
}

const METRICS: readonly Omit<Metric, 'value'>[] = [
  { key: 'cpu', min: 2, max: 98, step: 9, decimals: 1 },
  { key: 'memory', min: 20, max: 90, step: 3, decimals: 1 },
  { key: 'rps', min: 50, max: 1500, step: 120, decimals: 0 },
]

/** What the producer knows about one key. */
interface KeyState {
  /** What the key should hold if nobody else wrote it: what the producer last wrote or saw. */
  expected: string | null
  /** Set while a foreign value is being left alone. */
  quietUntil: number
}

/** Starts writing metrics; see the module comment. */
export function startProducer(target: ProducerTarget, options: ProducerOptions = {}): Producer {
  const memory = options.memory ?? 'dashboard'
  const prefix = options.prefix ?? 'memory:'
  const intervalMs = options.intervalMs ?? 500
  const quietMs = options.quietMs ?? 15_000
  const onError =
    options.onError ?? ((error: unknown) => console.warn(`[producer] ${String(error)}`))
  const metrics: Metric[] = METRICS.map((metric) => ({
    ...metric,
    value: round((metric.min + metric.max) / 2, metric.decimals),
  }))
  const keys = new Map<string, KeyState>()
  let stopped = false
  let running: Promise<void> = Promise.resolve()

  async function writeMetric(metric: Metric): Promise<void> {
    const key = `${prefix}${memory}:${metric.key}`
    const current = await target.get(key)
    let state = keys.get(key)
    if (!state) {
      // First look (a value from an earlier run, or nothing): carry on from it.
      state = { expected: current, quietUntil: 0 }
      keys.set(key, state)
      const previous = current === null ? null : valueOf(current)
      if (typeof previous === 'number') metric.value = previous
    }
    if (current !== state.expected) {
      // Someone else wrote (or deleted) it, or wrote it again while it was left alone.
      state.expected = current
      state.quietUntil = Date.now() + quietMs
      return
    }
    if (Date.now() < state.quietUntil) return
    metric.value = walk(metric)
    const text = JSON.stringify({ value: metric.value, last_modified: nowNs() })
    // Expects what was read: a write made since then makes this one fail, and is seen next time.
    if (await target.setIf(key, current, text)) state.expected = text
  }

  async function tick(): Promise<void> {
    for (const metric of metrics) {
      if (stopped) return
      try {
        await writeMetric(metric)
      } catch (error) {
        onError(error)
      }
    }
  }

  const timer = setInterval(() => {
    // One tick at a time: a slow Redis delays ticks rather than piling them up.
    running = running.then(tick)
  }, intervalMs)
  running = running.then(tick)

  return {
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}

/** The value inside a projection text (wrapped or bare JSON), or undefined. */
function valueOf(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && 'value' in parsed
      ? parsed.value
      : parsed
  } catch {
    return undefined
  }
}

function walk(metric: Metric): number {
  const next = metric.value + (Math.random() * 2 - 1) * metric.step
  return round(Math.min(metric.max, Math.max(metric.min, next)), metric.decimals)
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals
  return Math.round(value * factor) / factor
}

/** Nanoseconds since the epoch, like Python's `time.time_ns()` (the layout's `last_modified`). */
function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString()
}

/** Compare-and-set in one round trip: no write slips in between the check and the set. */
const SET_IF = `
local current = redis.call('GET', KEYS[1])
local expected = ARGV[1]
if (expected == '' and current == false) or current == expected then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`

/** The subset of an ioredis client the producer uses. */
export interface RedisLike {
  get(key: string): Promise<string | null>
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>
}

/** Writes through an ioredis client. */
export function redisTarget(redis: RedisLike): ProducerTarget {
  return {
    get: (key) => redis.get(key),
    // An empty expected string stands for "absent"; a real value is never empty (it is JSON).
    setIf: async (key, expected, text) =>
      (await redis.eval(SET_IF, 1, key, expected ?? '', text)) === 1,
  }
}

/** The subset of the embedded store's projection the producer uses. */
export interface ProjectionLike {
  get(fullKey: string): string | null
  set(fullKey: string, raw: string): void
}

/** Writes into the embedded store's projection, as another Redis client would. */
export function projectionTarget(projection: ProjectionLike): ProducerTarget {
  return {
    get: async (key) => projection.get(key),
    setIf: async (key, expected, text) => {
      if (projection.get(key) !== expected) return false
      projection.set(key, text)
      return true
    },
  }
}

// Standalone: `REDIS_URL=… node --import tsx demo/producer.ts`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { Redis } = await import('ioredis')
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = new Redis(url)
  const producer = startProducer(redisTarget(redis), {
    prefix: process.env.REDIS_PREFIX ?? 'memory:',
    intervalMs: Number(process.env.REMEM_DEMO_PRODUCER_MS ?? 500),
  })
  console.log(`remem demo producer: writing memory:dashboard:{cpu,memory,rps} to ${url}`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void producer.stop().then(() => redis.quit().then(() => process.exit(0)))
    })
  }
}
