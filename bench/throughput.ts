/**
 * Issue 2: updates per second applied, persisted and acknowledged by one relay, on Redis
 * and on the embedded store, with 1, 10 and 100 writing clients on one memory.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import type { WritersMessage, WritersRun } from './throughputWriters.ts'
import {
  type BenchContext,
  type Cell,
  STORES,
  type StoreKind,
  type Suite,
  type Table,
  cpuMeter,
  median,
  memoryName,
  now,
  round,
  startRelay,
} from './lib.ts'

const CLIENT_COUNTS = [1, 10, 100]
const RUNS = 3
/** Un-acked updates allowed across all clients; each client gets its share (at least 1). */
const TOTAL_WINDOW = 64
const windowOf = (clients: number): number => Math.max(1, Math.ceil(TOTAL_WINDOW / clients))
const WARMUP_MS = 300
const DURATION_MS = 3_000

type Result = Extract<WritersMessage, { type: 'result' }>

interface Sample {
  perSec: number
  relayCpu: number
  clientsCpu: number
  redisCpu: number | null
  errors: number
  firstError: string | null
}

/** The forked process that hosts the writing clients. */
class Writers {
  private readonly child: ChildProcess
  private readonly exited: Promise<void>
  private handler: ((message: WritersMessage) => void) | null = null
  private failure: ((error: Error) => void) | null = null

  constructor(ctx: BenchContext) {
    // fork() passes this process's execArgv (--conditions=@remem/source --import tsx) on.
    this.child = fork(fileURLToPath(new URL('./throughputWriters.ts', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
    this.child.on('message', (message: WritersMessage) => this.handler?.(message))
    this.child.once('exit', (code, signal) =>
      this.failure?.(new Error(`writers process exited (${signal ?? code}) during a run`)),
    )
    ctx.defer(() => this.stop())
  }

  /** Runs one measurement; `onPhase` hears when the measured phase starts and ends. */
  run(request: WritersRun, onPhase: (phase: 'measuring' | 'measured') => void): Promise<Result> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.handler = null
        this.failure = null
      }
      this.failure = (error) => {
        done()
        reject(error)
      }
      this.handler = (message) => {
        switch (message.type) {
          case 'measuring':
          case 'measured':
            return onPhase(message.type)
          case 'result':
            done()
            return resolve(message)
          case 'failed':
            done()
            return reject(new Error(`writers failed: ${message.message}`))
        }
      }
      this.child.send(request)
    })
  }

  /** Asks the process to exit; kills it (by its own handle) if it has not within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.failure = null
    if (this.child.connected) this.child.send({ type: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(timer)
  }
}

/** Redis CPU seconds (user + sys) so far, from INFO cpu. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
  return field('used_cpu_user') + field('used_cpu_sys')
}

async function measure(ctx: BenchContext, kind: StoreKind, clients: number, url: string, writers: Writers, redis: Redis | null): Promise<Sample> {
  let relayCpu: (() => number) | null = null
  let relayShare = 0
  let redisStart: Promise<number> | null = null
  let redisEnd: Promise<number> | null = null
  let t0 = 0
  let t1 = 0
  const result = await writers.run(
    {
      type: 'run',
      url,
      memory: memoryName(`tp-${kind}-${clients}`),
      clients,
      window: windowOf(clients),
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
    },
    (phase) => {
      if (phase === 'measuring') {
        relayCpu = cpuMeter()
        t0 = now()
        redisStart = redis ? redisCpuSeconds(redis) : null
      } else {
        relayShare = relayCpu?.() ?? 0
        t1 = now()
        redisEnd = redis ? redisCpuSeconds(redis) : null
      }
    },
  )
  let redisCpu: number | null = null
  if (redisStart && redisEnd) redisCpu = ((await redisEnd) - (await redisStart)) / ((t1 - t0) / 1000)
  ctx.progress(
    `throughput ${kind} ×${clients}: ${Math.round((result.acked / result.elapsedMs) * 1000)} acked/s`,
  )
  return {
    perSec: (result.acked / result.elapsedMs) * 1000,
    relayCpu: relayShare,
    clientsCpu: result.cpu,
    redisCpu,
    errors: result.errors,
    firstError: result.firstError,
  }
}

const pct = (share: number | null): Cell => (share === null ? null : `${Math.round(share * 100)}%`)

export const throughput: Suite = {
  name: 'throughput',
  issue: 2,
  title: 'acknowledged updates per second, one relay',
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, Record<string, unknown>> = {}
    let firstError: string | null = null
    for (const kind of STORES) {
      figures[kind] = {}
      const relay = await startRelay(ctx, kind)
      const redis = kind === 'redis' ? new Redis((await ctx.redis()).url) : null
      if (redis) ctx.defer(() => redis.disconnect())
      for (const clients of CLIENT_COUNTS) {
        const writers = new Writers(ctx)
        const samples: Sample[] = []
        for (let run = 0; run < RUNS; run++) samples.push(await measure(ctx, kind, clients, relay.url, writers, redis))
        await writers.stop()
        const perSec = samples.map((s) => s.perSec)
        const errors = samples.reduce((sum, s) => sum + s.errors, 0)
        firstError ??= samples.find((s) => s.firstError)?.firstError ?? null
        const redisCpu = kind === 'redis' ? median(samples.map((s) => s.redisCpu ?? 0)) : null
        rows.push([
          kind,
          clients,
          windowOf(clients),
          round(median(perSec)),
          round(Math.min(...perSec)),
          round(Math.max(...perSec)),
          round(median(perSec) / clients),
          pct(median(samples.map((s) => s.relayCpu))),
          pct(median(samples.map((s) => s.clientsCpu))),
          pct(redisCpu),
          errors,
        ])
        figures[kind][String(clients)] = {
          window: windowOf(clients),
          ackedPerSec: round(median(perSec)),
          runs: perSec.map((v) => round(v)),
          relayCpu: round(median(samples.map((s) => s.relayCpu)), 2),
          clientsCpu: round(median(samples.map((s) => s.clientsCpu)), 2),
          redisCpu: redisCpu === null ? null : round(redisCpu, 2),
          errors,
        }
      }
      await relay.close()
    }
    const table: Table = {
      title: `throughput — acked updates/s, median of ${RUNS} runs × ${DURATION_MS / 1000} s`,
      columns: ['store', 'clients', 'window', 'acked/s', 'min', 'max', 'per client', 'relay cpu', 'clients cpu', 'redis cpu', 'errors'],
      rows,
      notes: [
        `each client writes mem.set('k' + i, n) on one shared memory, awaiting whenSynced() every "window" writes (≈ ${TOTAL_WINDOW} un-acked in all)`,
        `clients run in one forked Node process (own event loop); ${WARMUP_MS} ms warm-up per run, then acked updates ÷ time to the last ack`,
        'every update is also fanned out to the other clients and projected to plain keys (coalesced); cpu = share of one core',
        'with many clients each update is applied by every client mirror: clients cpu near 100% means the clients process, not the relay, is the limit',
        ...(firstError ? [`first client error: ${firstError}`] : []),
      ],
    }
    return { tables: [table], figures: { totalWindow: TOTAL_WINDOW, durationMs: DURATION_MS, runs: RUNS, ...figures } }
  },
}
