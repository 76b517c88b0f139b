/**
 * Shared pieces of the benchmark suites: the suite contract, statistics, table printing,
 * and relays and clients set up the way the integration tests set them up (see
 * test/helpers.ts), but with bench-friendly settings.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { type Memory, type RememClient, createClient } from '@remem/client'
import { type RelayHandle, type RelayOptions, createRelay, silentLogger } from '@remem/server'
import type { RedisServer } from '../test/redisServer.ts'

// --- suite contract ------------------------------------------------------------------

/** A cell of a printed table. */
export type Cell = string | number | null

export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
  /** Lines printed under the table (what was measured, how). */
  notes?: string[]
}

export interface SuiteResult {
  tables: Table[]
  /** Machine-readable figures, emitted in the final `BENCH_JSON` line under the suite name. */
  figures: Record<string, unknown>
}

export interface BenchContext {
  /** A throwaway redis-server shared by all suites of this run (started on first use). */
  redis(): Promise<RedisServer>
  /** Registers a cleanup that runs when the suite ends (last registered runs first). */
  defer(cleanup: () => unknown): void
  /** A progress line on stderr (tables go to stdout). */
  progress(message: string): void
}

export interface Suite {
  /** What `npm run bench -- <name>` selects. */
  name: string
  /** The issue whose figures it produces. */
  issue: number
  title: string
  /** How long the suite may take before it is reported as failed; run.ts has a default. */
  timeoutMs?: number
  run(ctx: BenchContext): Promise<SuiteResult>
}

export type StoreKind = 'redis' | 'embedded'
export const STORES: readonly StoreKind[] = ['redis', 'embedded']

// --- statistics ----------------------------------------------------------------------

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

/** Nearest-rank quantile (q in [0, 1]); NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Runs `measure` `runs` times, one after the other, and returns every result. */
export async function repeat<T>(runs: number, measure: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (let run = 0; run < runs; run++) results.push(await measure(run))
  return results
}

export const now = (): number => performance.now()

/**
 * CPU time this process used so far, in ms (user + system, every thread: GC included). Per-call
 * figures of synchronous work read it rather than the clock, so that other processes on a
 * loaded machine do not count; on an idle machine it is at least the wall time.
 */
export function cpuNow(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** The main thread's own schedstat file (Linux), or null where there is none. */
const mainThreadStat = ((): string | null => {
  const file = `/proc/self/task/${process.pid}/schedstat`
  try {
    readFileSync(file)
    return file
  } catch {
    return null
  }
})()

/**
 * CPU milliseconds of this process's main thread alone (Linux's schedstat, in ns): what a
 * page's main thread spends, without the GC's helper threads that `cpuNow` adds. Where the
 * file is missing, `cpuNow`.
 */
export function mainThreadCpuNow(): number {
  if (mainThreadStat === null) return cpuNow()
  const text = readFileSync(mainThreadStat, 'latin1')
  return Number(text.slice(0, text.indexOf(' '))) / 1e6
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true; rejects with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/** CPU time this process used between two readings, as a share of one core. */
export function cpuMeter(): () => number {
  const start = process.cpuUsage()
  const t0 = now()
  return () => {
    const used = process.cpuUsage(start)
    return (used.user + used.system) / 1000 / (now() - t0)
  }
}

// --- formatting ----------------------------------------------------------------------

export function formatCell(cell: Cell): string {
  if (cell === null) return '–'
  if (typeof cell === 'string') return cell
  if (!Number.isFinite(cell)) return String(cell)
  const digits = Number.isInteger(cell) ? 0 : Math.abs(cell) >= 100 ? 0 : Math.abs(cell) >= 10 ? 1 : 2
  return cell.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`
}

export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => row.map(formatCell))
  const widths = table.columns.map((column, i) =>
    Math.max(column.length, ...cells.map((row) => (row[i] ?? '').length)),
  )
  const numeric = table.columns.map((_, i) => table.rows.every((row) => typeof row[i] !== 'string'))
  const line = (values: string[]): string =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [
    `── ${table.title} `.padEnd(Math.max(40, widths.reduce((a, b) => a + b + 2, 0)), '─'),
    line(table.columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ]
  for (const note of table.notes ?? []) out.push(`  · ${note}`)
  return out.join('\n')
}

// --- relays and clients --------------------------------------------------------------

/** Starts a quiet relay on a free port, on Redis or on the embedded store. */
export async function startRelay(
  ctx: BenchContext,
  kind: StoreKind,
  options: RelayOptions = {},
): Promise<RelayHandle> {
  const base: RelayOptions = {
    port: 0,
    host: '127.0.0.1',
    idleUnloadMs: 1_000,
    // The per-connection budget (5,000 frames/s by default) would cap what is measured.
    maxMessagesPerSecond: 1_000_000,
    maxBytesPerSecond: 1024 ** 3,
    ...(process.env.REMEM_LOG ? {} : { logger: silentLogger }),
  }
  if (kind === 'redis' && !options.store) base.redis = (await ctx.redis()).url
  const relay = await createRelay({ ...base, ...options })
  ctx.defer(() => relay.close())
  return relay
}

export type BenchClient = RememClient & { errors: Error[] }

/** A Node client (ws as WebSocket, fast reconnects) collecting the errors it reports. */
export function connect(url: string): BenchClient {
  const errors: Error[] = []
  const client = createClient({
    url,
    WebSocket,
    storage: 'memory',
    backoff: { minMs: 20, maxMs: 200 },
    onError: (error) => errors.push(error),
  })
  return Object.assign(client, { errors })
}

/** Resolves once the memory's handshake with the relay is done. */
export function whenOnline(memory: Memory, timeoutMs = 15_000): Promise<void> {
  if (memory.status.connection === 'online') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`memory "${memory.name}" not online after ${timeoutMs} ms`))
    }, timeoutMs)
    const off = memory.subscribeStatus(() => {
      if (memory.status.connection !== 'online') return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Closes clients (in parallel, 10 s at most) and returns how many errors they collected. */
export async function closeAll(clients: BenchClient[]): Promise<number> {
  await within(Promise.all(clients.map((client) => client.close())), 10_000, 'closing clients').catch(
    (error: unknown) => console.error(`bench: ${String(error)}`),
  )
  return clients.reduce((sum, client) => sum + client.errors.length, 0)
}

/** A unique memory name for one measurement. */
let counter = 0
export function memoryName(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`
}
