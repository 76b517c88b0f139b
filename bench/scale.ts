/**
 * Issue 13: acknowledged updates/s and fan-out latency with 1, 2 and 4 relays acting as one,
 * on one Redis and on a Redis Cluster (3 primaries, 3 replicas), with writers spread over
 * 100 memories. Relays are `remem-relay` processes (the CLI); clients run in forked processes
 * (scaleClients.ts), two for the load and one for the fan-out probe. `--quick` runs 1 and 2
 * relays once, shorter.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { type CliRelay, startCliRelay } from '../test/cliRelay.ts'
import { startRedisCluster } from '../test/redisCluster.ts'
import type { ScaleMessage, ScaleRun } from './scaleClients.ts'
import { type BenchContext, type Cell, type Suite, median, memoryName, quantile, round } from './lib.ts'

const QUICK = process.argv.includes('--quick')
const RELAY_COUNTS = QUICK ? [1, 2] : [1, 2, 4]
const RUNS = QUICK ? 1 : 2
const DURATION_MS = QUICK ? 2_000 : 4_000
const WARMUP_MS = 500
const MEMORIES = 100
/** Load processes × writers each: one writer per memory. */
const LOAD_PROCESSES = 2
const WRITERS_PER_PROCESS = MEMORIES / LOAD_PROCESSES
const WINDOW = 4
const PROBE_READERS = 20
const PROBE_INTERVAL_MS = 50

type Result = Extract<ScaleMessage, { type: 'result' }>
type Backend = 'redis' | 'cluster'

/** A forked scaleClients.ts process, reused across runs. */
class Clients {
  private readonly child: ChildProcess
  private readonly exited: Promise<void>
  private handler: ((message: ScaleMessage) => void) | null = null

  constructor(ctx: BenchContext) {
    this.child = fork(fileURLToPath(new URL('./scaleClients.ts', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
    this.child.on('message', (message: ScaleMessage) => this.handler?.(message))
    ctx.defer(() => this.stop())
  }

  /** Sends `request`; `ready` resolves once its clients are online, `result` at the end. */
  start(request: ScaleRun): { ready: Promise<void>; result: Promise<Result> } {
    let onReady!: () => void
    const ready = new Promise<void>((resolve) => (onReady = resolve))
    const result = new Promise<Result>((resolve, reject) => {
      const onExit = (): void => reject(new Error('a clients process exited during a run'))
      this.child.once('exit', onExit)
      this.handler = (message) => {
        if (message.type === 'ready') return onReady()
        this.child.off('exit', onExit)
        this.handler = null
        if (message.type === 'result') resolve(message)
        else reject(new Error(`clients failed: ${message.message}`))
      }
    })
    // A failure before 'ready' must not leave the caller waiting for it.
    result.catch(() => onReady())
    this.child.send(request)
    return { ready, result }
  }

  go(): void {
    this.child.send({ type: 'go' })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    if (this.child.connected) this.child.send({ type: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(timer)
  }
}

/** Busy share of all cores since `start`, from /proc/stat (null where there is none). */
function machineMeter(): () => number | null {
  const read = (): [number, number] | null => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
      const idle = fields[3]! + (fields[4] ?? 0)
      return [fields.reduce((a, b) => a + b, 0), idle]
    } catch {
      return null
    }
  }
  const start = read()
  return () => {
    const end = read()
    if (!start || !end || end[0] === start[0]) return null
    return 1 - (end[1] - start[1]) / (end[0] - start[0])
  }
}

interface Sample {
  perSec: number
  latencies: number[]
  delivered: number
  clientsCpu: number
  machineBusy: number | null
  load1: number
  errors: number
  firstError: string | null
}

async function measure(relays: CliRelay[], load: Clients[], probe: Clients, tag: string): Promise<Sample> {
  const urls = relays.map((relay) => relay.url)
  const memories = Array.from({ length: MEMORIES }, (_, i) => `${memoryName(tag)}-m${i}`)
  const base = { type: 'run' as const, urls, window: WINDOW, intervalMs: PROBE_INTERVAL_MS, warmupMs: WARMUP_MS, durationMs: DURATION_MS }
  const runs = [
    ...load.map((clients, i) =>
      clients.start({ ...base, role: 'load', memories, clients: WRITERS_PER_PROCESS, offset: i * WRITERS_PER_PROCESS }),
    ),
    probe.start({ ...base, role: 'probe', memories: [memoryName(`${tag}-probe`)], clients: PROBE_READERS, offset: 0 }),
  ]
  await Promise.all(runs.map((run) => run.ready))
  const machine = machineMeter()
  for (const clients of [...load, probe]) clients.go()
  const results = await Promise.all(runs.map((run) => run.result))
  const busy = machine()
  const loads = results.slice(0, load.length)
  const probed = results.at(-1)!
  return {
    perSec: loads.reduce((sum, r) => sum + (r.acked / r.elapsedMs) * 1000, 0),
    latencies: probed.latencies,
    delivered: probed.expected > 0 ? probed.latencies.length / probed.expected : 0,
    clientsCpu: results.reduce((sum, r) => sum + r.cpu, 0),
    machineBusy: busy,
    load1: os.loadavg()[0]!,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
  }
}

async function startRelays(ctx: BenchContext, count: number, target: string[]): Promise<CliRelay[]> {
  const relays = await Promise.all(
    Array.from({ length: count }, () => startCliRelay(['--port', '0', '--host', '127.0.0.1', '--log-level', 'error', ...target], {}, 60_000)),
  )
  ctx.defer(() => Promise.all(relays.map((relay) => relay.stop())))
  return relays
}

const pct = (share: number | null): Cell => (share === null ? null : `${Math.round(share * 100)}%`)

export const scale: Suite = {
  name: 'scale',
  issue: 13,
  title: `acked updates/s and fan-out p99 with ${RELAY_COUNTS.join(', ')} relays, one Redis and a Redis Cluster`,
  timeoutMs: QUICK ? 300_000 : 900_000,
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, Record<string, unknown>> = {}
    let firstError: string | null = null
    const load = Array.from({ length: LOAD_PROCESSES }, () => new Clients(ctx))
    const probe = new Clients(ctx)
    for (const backend of ['redis', 'cluster'] as Backend[]) {
      let target: string[]
      if (backend === 'redis') {
        target = ['--redis', (await ctx.redis()).url]
      } else {
        ctx.progress('scale: starting a Redis Cluster (3 primaries, 3 replicas)')
        const cluster = await startRedisCluster()
        ctx.defer(() => cluster.stop())
        target = ['--redis-cluster', cluster.seeds.join(',')]
      }
      figures[backend] = {}
      let baseline = Number.NaN
      for (const count of RELAY_COUNTS) {
        const relays = await startRelays(ctx, count, target)
        const samples: Sample[] = []
        for (let run = 0; run < RUNS; run++) {
          const sample = await measure(relays, load, probe, `scale-${backend}-${count}`)
          ctx.progress(
            `scale ${backend} ×${count}: ${Math.round(sample.perSec)} acked/s, fan-out p99 ${quantile(sample.latencies, 0.99).toFixed(1)} ms, load ${sample.load1.toFixed(1)}`,
          )
          samples.push(sample)
        }
        await Promise.all(relays.map((relay) => relay.stop()))
        const perSec = median(samples.map((s) => s.perSec))
        if (count === 1) baseline = perSec
        const p = (q: number): number => round(median(samples.map((s) => quantile(s.latencies, q))), 1)
        const errors = samples.reduce((sum, s) => sum + s.errors, 0)
        firstError ??= samples.find((s) => s.firstError)?.firstError ?? null
        const busy = median(samples.map((s) => s.machineBusy ?? Number.NaN))
        const row = {
          ackedPerSec: round(perSec),
          factor: round(perSec / baseline, 2),
          fanoutP50: p(0.5),
          fanoutP99: p(0.99),
          delivered: round(median(samples.map((s) => s.delivered)) * 100, 1),
          clientsCpu: round(median(samples.map((s) => s.clientsCpu)), 2),
          machineBusy: Number.isNaN(busy) ? null : round(busy, 2),
          load1: round(median(samples.map((s) => s.load1)), 1),
          runs: samples.map((s) => round(s.perSec)),
          errors,
        }
        rows.push([backend, count, row.ackedPerSec, `×${row.factor.toFixed(2)}`, row.fanoutP50, row.fanoutP99, `${row.delivered}%`, pct(row.clientsCpu), pct(row.machineBusy), row.load1, errors])
        figures[backend][String(count)] = row
      }
    }
    const cores = os.cpus().length
    return {
      tables: [
        {
          title: `scale — median of ${RUNS} run(s) × ${DURATION_MS / 1000} s${QUICK ? ' (--quick)' : ''}`,
          columns: ['store', 'relays', 'acked/s', 'vs 1 relay', 'fan-out p50', 'p99', 'delivered', 'clients cpu', 'machine busy', 'load 1m', 'errors'],
          rows,
          notes: [
            `${MEMORIES} writers, one per memory (${MEMORIES} memories), writer i on relay i mod N, mem.set('k', n) awaiting whenSynced() every ${WINDOW} writes; ${LOAD_PROCESSES} client processes`,
            `fan-out (ms) measured during the load: 1 writer on relay 0 sets ping every ${PROBE_INTERVAL_MS} ms, ${PROBE_READERS} readers spread over all relays (own process, one clock); delivered = pings each reader saw ÷ sent (a reader that gets several pings at once sees only the last)`,
            'relays are remem-relay processes (the CLI), each its own process; cluster = 3 primaries + 3 replicas, sharded pub/sub between relays',
            `this machine has ${cores} cores shared by relays, clients, Redis and other work: the scaling factor is bounded by cores here, not by the relays; machine busy = all cores, from /proc/stat`,
            ...(firstError ? [`first client error: ${firstError}`] : []),
          ],
        },
      ],
      figures: { quick: QUICK, runs: RUNS, durationMs: DURATION_MS, memories: MEMORIES, window: WINDOW, cores, ...figures },
    }
  },
}
