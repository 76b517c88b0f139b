/**
 * Issue 12: remem beside Hocuspocus 4.7 (+ extension-redis), @y/websocket-server 0.1.1
 * (y-websocket 3.1.0 clients) and a bare `ws` relay, in one interleaved run: for each
 * repetition, each workload, each system in turn (the order rotates per repetition).
 * Every server and every group of clients runs in its own process.
 *
 * Options (after `npm run bench -- peers`):
 *   --quick               fewer clients, shorter phases, one repetition (a smoke run)
 *   --only=w1,w10         only these workloads (ids below)
 *   --systems=remem,...   only these systems
 *   --profile             remem only, 1 and 10 writers unless --only says otherwise, the relay's
 *                         measured phase under V8's CPU profiler (as --cpu-prof; in fan-out workloads
 *                         the readers' relay): prints the functions with the most self time
 *   --profile-dir=DIR     with --profile: keep the .cpuprofile files in DIR (open them in DevTools)
 *   --runs=N              repetitions (default 3; 1 with --quick or --profile)
 *   --profile-clients=DIR every client group process under V8's CPU profiler, its profile
 *                         written to DIR when it exits (start-up included)
 *   --source              run remem's TypeScript sources (through tsx) instead of the packages
 *                         as built, which the suite builds first (`npm run build`)
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { type Cell, type Suite, type Table, median, round } from '../lib.ts'
import { killAll, runsBuiltPackages } from './processes.ts'
import { type ProfileEntry, summarizeProfiles } from './profile.ts'
import type { ServerKind } from './protocol.ts'
import { ALL_SYSTEMS, type Env, type Sample, type Workload, fanoutWorkload, idleWorkload, writersWorkload } from './workloads.ts'

const flag = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)

/** Builds the packages, so that the suite measures what npm users run (see `runsBuiltPackages`). */
function buildPackages(ctx: { progress(message: string): void }): void {
  ctx.progress('peers: npm run build (remem as users get it; --source runs the sources instead)')
  const build = spawnSync('npm', ['run', 'build'], { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`npm run build failed (status ${build.status}):\n${build.stdout}${build.stderr}`)
}

function workloads(quick: boolean): Workload[] {
  const ms = quick ? 1_500 : 3_000
  const fanMs = quick ? 2_000 : 5_000
  const n = (full: number, small: number): number => (quick ? small : full)
  return [
    writersWorkload('w1', '1 writer, updates/s acknowledged', 1, 1, ms),
    writersWorkload('w10', '10 writers on one document, updates/s', 10, 1, ms),
    writersWorkload('w100', `${n(100, 20)} writers, one document each, updates/s`, n(100, 20), n(100, 20), ms),
    fanoutWorkload('fan100', `fan-out 1 → ${n(100, 20)} readers at 100/s, p50 / p99`, n(100, 20), { perSecond: 100, durationMs: fanMs, twoRelays: false }),
    fanoutWorkload('fan1000', `fan-out 1 → ${n(1000, 200)} readers at 100/s, p50 / p99`, n(1000, 200), { perSecond: 100, durationMs: fanMs, twoRelays: false }),
    fanoutWorkload('relays', `two relays, writer on A → ${n(100, 20)} readers on B, p50 / p99`, n(100, 20), { perSecond: 100, durationMs: fanMs, twoRelays: true }),
    idleWorkload('idle', `idle connection, server RSS / heap per connection (${n(5000, 500)})`, n(5000, 500), 50, 2_500),
  ]
}

const NAMES: Record<ServerKind, string> = { remem: 'remem', hocuspocus: 'Hocuspocus', ywebsocket: 'y-websocket', bare: 'bare ws' }

const ms = (value: number): string => (value >= 1000 ? `${round(value / 1000, 2)} s` : `${round(value, value < 10 ? 1 : 0)} ms`)
const kb = (bytes: number): string => `${round(bytes / 1024, 1)} KB`
const times = (ratio: number): string => `${round(ratio, ratio < 10 ? 2 : 0)}×`

function cell(workload: Workload, samples: Sample[] | undefined): Cell {
  if (!samples || samples.length === 0) return null
  const first = median(samples.map((s) => s.value))
  const second = median(samples.map((s) => s.second ?? Number.NaN))
  if (workload.kind === 'throughput') return round(first)
  if (workload.kind === 'latency') return `${ms(first)} / ${ms(second)}`
  return `${kb(first)} / ${kb(second)}`
}

function ratio(workload: Workload, remem: Sample[] | undefined, hocus: Sample[] | undefined): Cell {
  if (!remem?.length || !hocus?.length) return null
  const m = (samples: Sample[], pick: (s: Sample) => number | null): number => median(samples.map((s) => pick(s) ?? Number.NaN))
  const first = m(remem, (s) => s.value) / m(hocus, (s) => s.value)
  if (workload.kind === 'throughput') return times(first)
  return `${times(first)} / ${times(m(remem, (s) => s.second) / m(hocus, (s) => s.second))}`
}

/** The Redis commands per update of the samples (medians), most frequent first, or null. */
function redisCallsMedian(list: Sample[]): string | null {
  const names = new Set(list.flatMap((x) => Object.keys(x.redisCalls ?? {})))
  if (names.size === 0) return null
  const per = [...names].map((name) => [name, median(list.map((x) => x.redisCalls?.[name] ?? 0))] as const)
  const total = per.reduce((sum, [, n]) => sum + n, 0)
  const shown = per.filter(([, n]) => n >= 0.01).sort((a, b) => b[1] - a[1])
  return `${round(total, 2)} in all: ${shown.map(([name, n]) => `${name} ${round(n, 2)}`).join(', ')}`
}

/**
 * The idle samples' young-generation growth (medians) and their average per connection
 * without it, or null. The growth is fixed (V8 sizes its young generation by how much
 * survived its collections while connections arrived), so it is left out of what each
 * further connection costs.
 */
function youngGenerationNote(list: Sample[], connections: number): string | null {
  const samples = list.flatMap((x) => (x.youngGeneration ? [{ ...x.youngGeneration, rss: x.value }] : []))
  if (samples.length === 0) return null
  const mb = (bytes: number): string => `${round(bytes / 1024 ** 2, 1)} MB`
  const growth = median(samples.map((x) => x.after - x.before))
  const without = median(samples.map((x) => x.rss - (x.after - x.before) / connections))
  return `V8's young generation ${mb(median(samples.map((x) => x.before)))} → ${mb(median(samples.map((x) => x.after)))} (${kb(growth / connections)} of the RSS per connection; runs: ${samples.map((x) => mb(x.after - x.before)).join(', ')}); RSS per connection without it ${kb(without)}`
}

const pct = (share: number): string => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : '?')

export const peers: Suite = {
  name: 'peers',
  issue: 12,
  title: 'remem beside Hocuspocus, y-websocket and a bare ws relay',
  timeoutMs: 3 * 60 * 60_000,
  async run(ctx) {
    const quick = process.argv.includes('--quick')
    const profiling = process.argv.includes('--profile')
    const only = flag('only')?.split(',') ?? (profiling ? ['w1', 'w10'] : null)
    const systems = (flag('systems')?.split(',') as ServerKind[] | undefined) ?? (profiling ? ['remem'] : ALL_SYSTEMS)
    const runs = Number(flag('runs') ?? (quick || profiling ? 1 : 3))
    const selected = workloads(quick).filter((w) => !only || only.includes(w.id))
    if (runsBuiltPackages()) buildPackages(ctx)
    const redisServer = await ctx.redis()
    const redis = new Redis(redisServer.url)
    ctx.defer(() => redis.disconnect())
    // --profile-dir=DIR keeps the .cpuprofile files there (for DevTools); else a temporary directory.
    const keptDir = flag('profile-dir')
    const profileDir = profiling ? (keptDir ? path.resolve(keptDir) : mkdtempSync(path.join(os.tmpdir(), 'remem-prof-'))) : undefined
    if (profileDir && keptDir) mkdirSync(profileDir, { recursive: true })
    if (profileDir && !keptDir) ctx.defer(() => rmSync(profileDir, { recursive: true, force: true }))
    let counter = 0
    const env: Env = {
      redisUrl: redisServer.url,
      redisPid: redisServer.pid,
      profileDir,
      name: (prefix) => `${prefix}-${process.pid}-${++counter}`,
    }

    ctx.defer(killAll)
    const failures: string[] = []
    const samples = new Map<string, Sample[]>()
    const key = (w: Workload, system: ServerKind): string => `${w.id}/${system}`
    const loads: number[] = [os.loadavg()[0]!]
    for (let run = 0; run < runs; run++) {
      for (const workload of selected) {
        const order = workload.systems.filter((s) => systems.includes(s))
        for (let i = 0; i < order.length; i++) {
          const system = order[(i + run) % order.length]!
          let sample: Sample
          try {
            sample = await workload.measure(env, system)
          } catch (error) {
            // One system failing a workload (a crash, a stuck handshake) must not void the run.
            ctx.progress(`peers run ${run + 1}/${runs} ${workload.id} ${system}: FAILED ${String(error)}`)
            failures.push(`${workload.id} ${NAMES[system]} (run ${run + 1}): ${String(error).slice(0, 300)}`)
            await redis.flushall()
            continue
          }
          loads.push(sample.load)
          const figure = workload.kind === 'throughput' ? `${round(sample.value)}/s` : workload.kind === 'latency' ? `p50 ${ms(sample.value)} p99 ${ms(sample.second!)}` : `${kb(sample.value)} RSS/conn`
          ctx.progress(`peers run ${run + 1}/${runs} ${workload.id} ${system}: ${figure}, load ${sample.load.toFixed(2)}`)
          const list = samples.get(key(workload, system)) ?? []
          list.push(sample)
          samples.set(key(workload, system), list)
          await redis.flushall()
        }
      }
    }

    const summary: Table = {
      title: `peers — medians of ${runs} interleaved run${runs > 1 ? 's' : ''}${quick ? ' (--quick)' : ''}`,
      columns: ['workload', 'remem', 'Hocuspocus', 'y-websocket', 'bare ws', 'remem ÷ Hocuspocus'],
      rows: selected.map((w) => [
        w.label,
        ...ALL_SYSTEMS.map((s) => cell(w, samples.get(key(w, s)))),
        ratio(w, samples.get(key(w, 'remem')), samples.get(key(w, 'hocuspocus'))),
      ]),
      notes: [
        'acks differ: remem = appended to Redis (whenSynced); Hocuspocus = applied in the server\'s memory (SyncStatus); bare ws = forwarded by the relay; y-websocket has none: an update counts once a reader (a witness client in the writers\' process) has seen it',
        'throughput ratios: higher is better; latency and memory ratios: lower is better',
        runsBuiltPackages() ? 'remem ran as built (dist/, what npm users get)' : 'remem ran from its TypeScript sources through tsx (--source): slower and larger than as built',
        `load average (1 min) over the run: ${round(Math.min(...loads), 2)}–${round(Math.max(...loads), 2)} on ${os.cpus().length} cores shared with other work`,
      ],
    }
    const details: Table = {
      title: 'peers — every system: median, range, CPU per process (share of one core, median), final-state checks',
      columns: ['workload', 'system', 'median', 'range', 'cpu per process', 'cpu µs/update', 'lost', 'behind', 'errors', 'load'],
      rows: [],
      notes: [
        'cpu µs/update: CPU time of each process (server, clients, redis) per acknowledged update (throughput workloads), moved by load less than updates/s; their sum is what one update costs the machine',
        'lost: acknowledged (or witnessed) writes a fresh client did not find on the server ("–": bare ws keeps no state); behind: clients that did not reach the final state within 30 s',
      ],
    }
    const figures: Record<string, unknown> = { runs, quick, loadAverage: { min: round(Math.min(...loads), 2), max: round(Math.max(...loads), 2) } }
    let firstError: string | null = null
    for (const w of selected) {
      for (const s of ALL_SYSTEMS) {
        const list = samples.get(key(w, s))
        if (!list) continue
        const values = list.map((x) => x.value)
        const fmt = (v: number): string => (w.kind === 'throughput' ? String(round(v)) : w.kind === 'latency' ? ms(v) : kb(v))
        const labels = Object.keys(list[0]!.cpu)
        const cpu = labels.map((label) => `${label} ${pct(median(list.map((x) => x.cpu[label] ?? Number.NaN)))}`).join(', ')
        const lost = list.every((x) => x.lost === null) ? null : list.reduce((sum, x) => sum + (x.lost ?? 0), 0)
        firstError ??= list.find((x) => x.firstError)?.firstError ?? null
        // CPU each process spent per acknowledged update: moved by load less than updates/s.
        const usPerUpdate = (label: string): number => round(median(list.map((x) => ((x.cpu[label] ?? Number.NaN) / x.value) * 1e6)), 1)
        const perUpdate = w.kind === 'throughput' ? usPerUpdate('server') : null
        const perUpdateCell = w.kind === 'throughput' ? labels.map((label) => `${label} ${usPerUpdate(label)}`).join(', ') : null
        details.rows.push([
          w.id,
          NAMES[s],
          cell(w, list),
          `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`,
          cpu,
          perUpdateCell,
          lost,
          list.reduce((sum, x) => sum + x.behind, 0),
          list.reduce((sum, x) => sum + x.errors, 0),
          round(median(list.map((x) => x.load)), 2),
        ])
        const idle = w.connections ? youngGenerationNote(list, w.connections) : null
        if (idle) details.notes!.push(`memory, ${w.id} ${NAMES[s]} (median of runs): ${idle}`)
        const calls = redisCallsMedian(list)
        if (calls) details.notes!.push(`redis commands per update, ${w.id} ${NAMES[s]} (median of runs): ${calls}`)
        const syscalls = list.every((x) => x.serverSyscalls) ? list.map((x) => x.serverSyscalls!) : null
        if (syscalls) {
          const of = (pick: (x: { reads: number; writes: number; switches: number }) => number): number => round(median(syscalls.map(pick)), 2)
          details.notes!.push(
            `server syscalls per update, ${w.id} ${NAMES[s]} (median of runs): ${of((x) => x.reads)} reads, ${of((x) => x.writes)} writes, ${of((x) => x.switches)} context switches`,
          )
        }
        figures[key(w, s)] = {
          median: round(median(values), 2),
          second: list[0]!.second === null ? null : round(median(list.map((x) => x.second!)), 2),
          runs: values.map((v) => round(v, 2)),
          cpu: Object.fromEntries(labels.map((label) => [label, round(median(list.map((x) => x.cpu[label] ?? Number.NaN)), 2)])),
          serverCpuUsPerUpdate: perUpdate,
          cpuUsPerUpdate: w.kind === 'throughput' ? Object.fromEntries(labels.map((label) => [label, usPerUpdate(label)])) : null,
          serverSyscallsPerUpdate: list[0]!.serverSyscalls ? list.map((x) => x.serverSyscalls) : null,
          youngGeneration: list[0]!.youngGeneration ? list.map((x) => x.youngGeneration) : null,
          serverCpuUsPerUpdateRuns: w.kind === 'throughput' ? list.map((x) => round(((x.cpu.server ?? Number.NaN) / x.value) * 1e6, 1)) : null,
          lost,
          behind: list.reduce((sum, x) => sum + x.behind, 0),
          errors: list.reduce((sum, x) => sum + x.errors, 0),
        }
      }
    }
    if (firstError) details.notes!.push(`first client error: ${firstError}`)
    for (const failure of failures) details.notes!.push(`FAILED ${failure}`)
    figures.failures = failures
    const tables = [summary, details]
    if (profileDir) {
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f))
      const profile = summarizeProfiles(files, 20)
      const where = `${files.length} measured phase${files.length === 1 ? '' : 's'} of ${selected.map((w) => w.id).join(' + ')}`
      const note = `sampled ${round(profile.totalMs)} ms, of which idle ${round(profile.idleMs)} ms; share = of busy (non-idle) time`
      // The profile is the main thread's wall time, not CPU: the OS figure beside it tells them apart.
      const shares = selected.flatMap((w) => (samples.get(key(w, 'remem')) ?? []).map((x) => x.cpu['server B'] ?? x.cpu.server ?? Number.NaN))
      const busyShare = profile.totalMs > 0 ? 1 - profile.idleMs / profile.totalMs : Number.NaN
      const cpuNote = `the profiled relay used ${pct(median(shares))} of a core (OS-measured, all threads, median) where the profile counts ${pct(busyShare)} of the phase busy: samples count the main thread's wall time, so more than the OS figure is time spent waiting for a core (counted in the function that waited), less is other threads' CPU (GC helpers, the profiler)`
      const rows = (entries: ProfileEntry[]): Cell[][] => entries.map((e) => [e.name, round(e.ms), `${round(e.share * 100, 1)}%`])
      tables.push(
        { title: `remem relay CPU profile (${where}): top self time`, columns: ['function (file)', 'self ms', 'share'], rows: rows(profile.self), notes: [note, cpuNote] },
        { title: 'remem relay CPU profile: self time per package or file', columns: ['file', 'self ms', 'share'], rows: rows(profile.files.slice(0, 12)) },
        { title: 'remem relay CPU profile: relay functions by total time (self + callees)', columns: ['function (file)', 'total ms', 'share'], rows: rows(profile.relayTotal.slice(0, 15)) },
      )
      const json = (entries: ProfileEntry[]): unknown => entries.slice(0, 15).map((e) => ({ name: e.name, ms: round(e.ms), share: round(e.share, 3) }))
      figures.profile = { self: json(profile.self), files: json(profile.files), relayTotal: json(profile.relayTotal) }
    }
    return { tables, figures }
  },
}
