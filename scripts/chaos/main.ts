/**
 * `npm run chaos -- --seed N --seconds S [--relays 2] [--writers 4] [--self-test] [--keep-logs]`
 *
 * Runs redis-server (AOF, fsync always), relays (the CLI) and client writer processes while a
 * seeded fault loop kills and pauses them, lets everything settle, and checks exactly that
 * every acknowledged change is there and every copy agrees. Prints the figures, then
 * `CHAOS PASS` or `CHAOS FAIL: <reason>` as its last line; exits 0 or 1. See docs/CHAOS.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisCluster, startRedisCluster } from '../../test/redisCluster.ts'
import { type RedisServer, freePort, startRedis } from '../../test/redisServer.ts'
import { AckAudit } from './ackAudit.ts'
import {
  checkCopies,
  checkExternal,
  checkProjection,
  checkStuck,
  checkWriters,
  writerFigures,
} from './check.ts'
import { ExternalWriter } from './externalWriter.ts'
import { FAULT_KINDS, FaultLoop } from './faults.ts'
import { type ExternalEntry, type WriterEntry, readJournal } from './journal.ts'
import { type ChaosOptions, USAGE, parseChaosArgs } from './options.ts'
import { createPrng } from './prng.ts'
import { type Exit, RelayProcess, WriterProcess, killAllChildren, sleep } from './processes.ts'
import { LeaseWatcher } from './leaseWatcher.ts'
import { clientErrorKinds, epochMoves } from './logSummary.ts'
import { clusterTarget } from './redisTarget.ts'
import { injectLoss } from './selfTest.ts'
import { type Collected, Observer, collect, collectUntilAgreed } from './settle.ts'

const PREFIX = 'memory:'

let options: ChaosOptions
try {
  options = parseChaosArgs(process.argv.slice(2))
} catch (error) {
  console.error(`chaos: ${(error as Error).message}\n${USAGE}`)
  process.exit(2)
}

const logDir = mkdtempSync(join(tmpdir(), `remem-chaos-seed${options.seed}-`))
const crashes: string[] = []
const relays: RelayProcess[] = []
const writers: WriterProcess[] = []
const observers: Observer[] = []
let redis: RedisServer | undefined
let cluster: RedisCluster | undefined
/** What relays and the harness's readers connect to: redis.url, or the cluster (redisTarget.ts). */
let target = ''
let faults: FaultLoop | undefined
const started = Date.now()
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
const say = (line: string): void => console.log(`[chaos ${elapsed()}] ${line}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    faults?.release()
    killAllChildren()
    console.log(`logs kept in ${logDir}`)
    console.log(`CHAOS FAIL: interrupted by ${signal}`)
    process.exit(130)
  })
}
// A run that hangs is a failure too, with its logs.
const watchdog = setTimeout(
  () => {
    faults?.release()
    killAllChildren()
    console.log(`logs kept in ${logDir}`)
    console.log('CHAOS FAIL: the harness did not finish in time (see the logs)')
    process.exit(1)
  },
  (options.seconds + 2 * options.settleSeconds + 180) * 1000,
)

const exitText = (exit: Exit): string => `code ${exit.code}, signal ${exit.signal}`

function onRelayCrash(relay: RelayProcess, exit: Exit): void {
  crashes.push(
    `relay ${relay.index} died at ${elapsed()} without being signalled (${exitText(exit)}); see ${relay.logFile}`,
  )
  say(`relay ${relay.index} CRASHED (${exitText(exit)}); restarting it`)
  void relay.start().catch((error: unknown) => crashes.push(String(error)))
}

let nextWriter = 1
function startWriter(memories: string[]): WriterProcess {
  const id = `w${nextWriter++}`
  const writer = new WriterProcess(
    {
      id,
      seed: options.seed,
      relays: relays.map((relay) => relay.url),
      memories,
      journal: join(logDir, `${id}.journal`),
      opDelayMs: [10, 60],
      settleMs: options.settleSeconds * 1000,
    },
    join(logDir, `${id}.log`),
    (crashed, exit) => {
      crashes.push(
        `writer ${crashed.id} died without being killed (${exitText(exit)}); see ${crashed.logFile}`,
      )
      say(`writer ${crashed.id} CRASHED (${exitText(exit)})`)
    },
  )
  writers.push(writer)
  return writer
}

async function run(): Promise<string[]> {
  const memories = Array.from({ length: options.memories }, (_, i) => `chaos${i + 1}`)
  say(
    `seed ${options.seed}, ${options.seconds} s, ${options.relays} relays, ${options.writers} writers, ` +
      `memories ${memories.join(' ')}; logs in ${logDir}`,
  )
  if (options.cluster) {
    cluster = await startRedisCluster({
      args: ['--appendonly', 'yes', '--appendfsync', 'always', '--notify-keyspace-events', 'KEA'],
    })
    target = clusterTarget(cluster.seeds)
  } else {
    redis = await startRedis({ persist: true, args: ['--notify-keyspace-events', 'KEA'] })
    target = redis.url
  }
  for (let i = 0; i < options.relays; i++) {
    relays.push(
      new RelayProcess(
        i,
        await freePort(),
        target,
        join(logDir, `relay-${i}.log`),
        onRelayCrash,
        options.traceRedisCommands,
      ),
    )
  }
  await Promise.all(relays.map((relay) => relay.start()))
  say(
    `${cluster ? `redis cluster ${cluster.seeds.join(',')}` : `redis ${redis!.url} (dir ${redis!.dir})`}; relays ${relays.map((relay) => relay.url).join(' ')}`,
  )
  for (let i = 0; i < options.writers; i++) startWriter(memories)
  // Faults start once every writer runs (each takes seconds to compile and start).
  await Promise.all(writers.map((writer) => writer.request('state', 60_000)))
  say(`${writers.length} writers running`)
  const external = new ExternalWriter(
    target,
    PREFIX,
    memories,
    createPrng(options.seed, 'external'),
    join(logDir, 'external.journal'),
  )
  external.start()
  const leases = new LeaseWatcher(target, PREFIX, memories, join(logDir, 'leases.log'))
  leases.start()
  const audit = new AckAudit(
    target,
    PREFIX,
    memories,
    () => new Map(writers.map((writer) => [writer.id, writer.config.journal])),
    join(logDir, 'audit.log'),
  )
  audit.start()
  const writerPrng = createPrng(options.seed, 'victims')
  faults = new FaultLoop(
    createPrng(options.seed, 'faults'),
    {
      relays,
      ...(redis ? { redis } : {}),
      ...(cluster
        ? { cluster: { cluster, keys: memories.map((name) => `remem:{${PREFIX}${name}}:log`) } }
        : {}),
      replaceWriter: async () => {
        const victim = writerPrng.pick(writers.filter((writer) => writer.alive))
        await victim.kill()
        return `${victim.id} (replaced by ${startWriter(memories).id})`
      },
    },
    join(logDir, 'faults.log'),
    options.faults,
  )
  await faults.run(Date.now() + options.seconds * 1000, !options.noFaults)
  const faultsEnded = Date.now()
  say('faults stopped; settling')
  // A relay that crashed may still be restarting.
  await Promise.all(relays.map((relay) => relay.start()))

  await external.stop()
  await leases.stop()
  await audit.stop()
  const stops = await Promise.all(
    writers
      .filter((writer) => writer.alive)
      .map((writer) => writer.request('stop', (options.settleSeconds + 10) * 1000)),
  )
  for (const relay of relays)
    observers.push(new Observer(`fresh client on relay ${relay.index}`, relay.url, memories))
  const read = (): Promise<Collected> => collect(target, PREFIX, memories, writers, observers)
  const settled = await collectUntilAgreed(faultsEnded + options.settleSeconds * 1000, read)
  const settleMs = Date.now() - faultsEnded
  say(
    `settled in ${(settleMs / 1000).toFixed(1)} s (${settled.agreed ? 'all copies agree' : 'copies still disagree'}); ${stops.filter((s) => s?.synced).length}/${stops.length} writers synced`,
  )

  const fresh = new RelayProcess(
    relays.length,
    await freePort(),
    target,
    join(logDir, `relay-${relays.length}-fresh.log`),
    onRelayCrash,
  )
  relays.push(fresh)
  await fresh.start()
  observers.push(new Observer('fresh client on a fresh relay', fresh.url, memories))
  const { collected } = await collectUntilAgreed(Date.now() + 30_000, read)

  const journals = new Map<string, WriterEntry[]>(
    writers.map((writer) => [writer.id, readJournal<WriterEntry>(writer.config.journal)]),
  )
  const externalJournal = readJournal<ExternalEntry>(join(logDir, 'external.journal'))
  let final = collected.stored.memories
  if (options.selfTest) {
    const injected = injectLoss(final, journals)
    final = injected.final
    say(`self-test: removed ${injected.removed} from the state the checks see`)
  }
  const problems = [
    ...crashes,
    ...audit.problems,
    ...checkWriters(journals, final),
    ...checkStuck(collected.stored, collected.copies),
    ...checkExternal(externalJournal, final, PREFIX, collected.projections),
    ...collected.storedPending.map(
      (name) => `the Redis log of ${name} has updates waiting for missing ones`,
    ),
    ...checkCopies(collected.stored, collected.copies),
    ...checkProjection(collected.stored.memories, collected.projections),
  ]

  const ops = writerFigures(journals)
  const faultCounts = FAULT_KINDS.map((kind) => `${kind} ${faults!.counts[kind]}`).join(', ')
  const failedStarts = relays.reduce((sum, relay) => sum + relay.failedStarts, 0)
  console.log(
    `operations: made ${ops.made}, acknowledged ${ops.acked}, unacknowledged (in flight at kills) ${ops.made - ops.acked}`,
  )
  console.log(
    `writers: ${writers.length} started (${writers.length - options.writers} replacements)`,
  )
  console.log(
    `external writes: made ${external.figures.made}, acknowledged ${external.figures.acked}, uncertain ${external.figures.uncertain}`,
  )
  console.log(`faults: ${faultCounts}`)
  console.log(
    `relays: SIGTERM needing SIGKILL ${faults.termForced}, SIGTERM exit ≠ 0 ${faults.termNonZero}, failed starts ${failedStarts}`,
  )
  console.log(
    `settle: ${(settleMs / 1000).toFixed(1)} s${settled.agreed ? '' : ' (did not agree in time)'}`,
  )
  console.log(
    `ack audit during the faults: ${audit.samples} reads of Redis compared, ${audit.skipped} skipped (Redis down or paused)`,
  )
  console.log(
    `ingest leases seen on client-written keys (diagnostic, leases.log): ${leases.clientKeyLeases}`,
  )
  const epochs = epochMoves(logDir)
  console.log(`epoch moves (a relay switching or following a memory to a new epoch): ${epochs}`)
  console.log(`what clients were told (most frequent first):`)
  for (const kind of clientErrorKinds(logDir)) console.log(`  ${kind}`)
  console.log(
    'CHAOS_JSON ' +
      JSON.stringify({
        seed: options.seed,
        seconds: options.seconds,
        cluster: options.cluster,
        made: ops.made,
        acked: ops.acked,
        external: external.figures,
        faults: faults.counts,
        termForced: faults.termForced,
        failedStarts,
        settleMs,
        clientKeyLeases: leases.clientKeyLeases,
        auditSamples: audit.samples,
        epochMoves: epochs,
        problems: problems.length,
      }),
  )
  writeFileSync(join(logDir, 'problems.txt'), problems.join('\n') + '\n')
  return problems
}

async function cleanup(): Promise<void> {
  await Promise.all(observers.map((observer) => observer.close().catch(() => undefined)))
  await Promise.all(writers.filter((writer) => writer.alive).map((writer) => writer.kill()))
  await Promise.all(relays.map((relay) => relay.stop('SIGTERM', 5000)))
  await redis?.stop()
  await cluster?.stop()
  killAllChildren()
}

let problems: string[]
try {
  problems = await run()
} catch (error) {
  problems = [
    `the harness failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  ]
}
faults?.release()
await Promise.race([cleanup(), sleep(20_000)])
clearTimeout(watchdog)
const failed = problems.length > 0
if (failed) {
  for (const problem of problems.slice(0, 20)) console.log(`  - ${problem}`)
  if (problems.length > 20)
    console.log(`  … ${problems.length - 20} more in ${join(logDir, 'problems.txt')}`)
  console.log(
    `logs kept in ${logDir} (relay-*.log, w*.log, w*.journal, external.journal, faults.log, audit.log, leases.log, problems.txt)`,
  )
} else if (options.keepLogs) {
  console.log(`logs kept in ${logDir}`)
} else {
  rmSync(logDir, { recursive: true, force: true })
}
console.log(failed ? `CHAOS FAIL: ${problems[0]!.split('\n')[0]}` : 'CHAOS PASS')
process.exit(failed ? 1 : 0)
