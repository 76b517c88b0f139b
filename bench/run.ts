/**
 * `npm run bench` runs every suite; `npm run bench -- <suite> [<suite>…]` runs some.
 * Prints a table per suite, then one line `BENCH_JSON {…}` with every figure, so notes
 * can quote them. There are no thresholds: it reports, it does not judge.
 *
 * Adding a suite: write `bench/<name>.ts` exporting a `Suite` (see lib.ts) and add it to
 * SUITES below.
 */
import os from 'node:os'
import { type RedisServer, startRedis } from '../test/redisServer.ts'
import { bundle } from './bundle.ts'
import { compaction } from './compaction.ts'
import { document } from './document.ts'
import { epochs } from './epochs.ts'
import { external } from './external.ts'
import { fanout } from './fanout.ts'
import { model } from './model.ts'
import { offline } from './offline.ts'
import { peers } from './peers/index.ts'
import { scale } from './scale.ts'
import { shapes } from './shapes.ts'
import { type BenchContext, type Suite, now, renderTable, within } from './lib.ts'
import { throughput } from './throughput.ts'

const SUITES: Suite[] = [throughput, fanout, external, compaction, document, epochs, shapes, offline, peers, scale, model, bundle]

/** A suite that takes longer than this (or its own `timeoutMs`) is reported as failed (and its relays closed). */
const SUITE_TIMEOUT_MS = 180_000

const round2 = (value: number): number => Math.round(value * 100) / 100
const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(' ')

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
  const unknown = wanted.filter((name) => !SUITES.some((suite) => suite.name === name))
  if (unknown.length > 0 || process.argv.includes('--help')) {
    if (unknown.length > 0) console.error(`unknown suite: ${unknown.join(', ')}`)
    console.error(`usage: npm run bench [-- <suite>…]   suites: ${SUITES.map((s) => s.name).join(', ')}`)
    return unknown.length > 0 ? 2 : 0
  }
  const selected = wanted.length > 0 ? SUITES.filter((suite) => wanted.includes(suite.name)) : SUITES

  let redisServer: Promise<RedisServer> | null = null
  const cleanups: Array<() => unknown> = []
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup()
      } catch (error) {
        console.error(`bench: cleanup failed: ${String(error)}`)
      }
    }
  }
  const ctx: BenchContext = {
    redis: () => (redisServer ??= startRedis()),
    defer: (cleanup) => cleanups.push(cleanup),
    progress: (message) => console.error(`  … ${message}`),
  }
  const stopRedis = async (): Promise<void> => {
    const started = redisServer
    redisServer = null
    if (started) await (await started).stop()
  }
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130)
    interrupted = true
    console.error(`bench: ${signal}: cleaning up`)
    void runCleanups()
      .then(stopRedis)
      .finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const cpus = os.cpus()
  console.log(
    `remem bench — node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ` +
      `load average ${loadAverage()}, suites: ${selected.map((s) => s.name).join(', ')}`,
  )
  const loadBefore = os.loadavg()[0]!
  const figures: Record<string, unknown> = {}
  const started = now()
  let failed = 0
  try {
    for (const suite of selected) {
      const t0 = now()
      console.error(`bench: ${suite.name} (issue ${suite.issue}): ${suite.title}`)
      try {
        const result = await within(suite.run(ctx), suite.timeoutMs ?? SUITE_TIMEOUT_MS, `suite ${suite.name}`)
        for (const table of result.tables) console.log(`\n${renderTable(table)}`)
        figures[suite.name] = { issue: suite.issue, seconds: Math.round((now() - t0) / 100) / 10, ...result.figures }
      } catch (error) {
        failed++
        console.error(`bench: suite ${suite.name} failed:`, error)
        figures[suite.name] = { issue: suite.issue, error: String(error) }
      } finally {
        await runCleanups()
      }
    }
  } finally {
    await stopRedis()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const total = Math.round((now() - started) / 100) / 10
  console.log(`\ntotal ${total} s, load average ${loadAverage()} (other processes share these cores: compare runs with care)`)
  console.log(
    `BENCH_JSON ${JSON.stringify({
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? null,
      totalSeconds: total,
      loadAverage1m: { before: round2(loadBefore), after: round2(os.loadavg()[0]!) },
      suites: figures,
    })}`,
  )
  return failed > 0 ? 1 : 0
}

const code = await main()
process.exitCode = code
// Everything is closed by now; if a handle still keeps the loop alive, say so and leave.
setTimeout(() => {
  console.error('bench: something kept the process alive after cleanup; exiting')
  process.exit(code)
}, 3_000).unref()
