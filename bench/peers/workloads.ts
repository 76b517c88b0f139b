/**
 * The workloads of the `peers` suite (issue 12's table). Each measurement starts its own
 * server process(es) and client group process(es), and stops them when it is done, so that
 * no measurement inherits another's state; the suite interleaves systems (index.ts).
 */
import os from 'node:os'
import { Redis } from 'ioredis'
import { ClientGroup, ServerProcess, cpuSeconds, syscallCounts } from './processes.ts'
import type { ServerKind } from './protocol.ts'

/** What one measurement of one system gives. */
export interface Sample {
  /** The workload's main figure: updates/s, p50 ms, or RSS bytes per connection. */
  value: number
  /** The second figure: p99 ms, or heap bytes per connection. */
  second: number | null
  /** Share of one core used by each process during the measured phase. */
  cpu: Record<string, number>
  /** Acknowledged updates a fresh client did not find on the server (null: not checked). */
  lost: number | null
  /** Clients that did not reach the final state. */
  behind: number
  errors: number
  firstError: string | null
  /** 1-minute load average at the end of the measurement. */
  load: number
  /** Redis commands per acknowledged update during the measured phase, by command (throughput workloads). */
  redisCalls?: Record<string, number>
  /** The server's read and write syscalls and context switches per acknowledged update (throughput workloads). */
  serverSyscalls?: { reads: number; writes: number; switches: number }
  /**
   * Memory workloads: V8's young generation (new space) before and after, in bytes. It grows
   * while connections arrive, by up to some 32 MB whatever their number, so it weighs on the
   * average per connection by 1 / connections and varies from run to run.
   */
  youngGeneration?: { before: number; after: number }
}

export interface Env {
  redisUrl: string
  redisPid: number | undefined
  /** Directory for CPU profiles of remem servers' measured phases, if profiling. */
  profileDir?: string | undefined
  /** A unique document name. */
  name(prefix: string): string
}

export interface Workload {
  id: string
  label: string
  /** The systems it runs (y-websocket and bare ws have no relay-to-relay path). */
  systems: readonly ServerKind[]
  /** 'throughput': higher is better; 'latency' and 'memory': lower is better. */
  kind: 'throughput' | 'latency' | 'memory'
  /** Memory workloads: the connections the figures are divided by. */
  connections?: number
  measure(env: Env, system: ServerKind): Promise<Sample>
}

export const ALL_SYSTEMS: readonly ServerKind[] = ['remem', 'hocuspocus', 'ywebsocket', 'bare']

/** Un-acknowledged updates allowed in all, split between the writers (≥ 1 each). */
const TOTAL_WINDOW = 64

/** CPU shares of labelled processes between `start()` and `stop()`. */
function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const t0 = performance.now()
  const before = Object.fromEntries(Object.entries(pids).map(([label, pid]) => [label, cpuSeconds(pid)]))
  return () => {
    const seconds = (performance.now() - t0) / 1000
    return Object.fromEntries(
      Object.entries(pids).map(([label, pid]) => [label, (cpuSeconds(pid) - before[label]!) / seconds]),
    )
  }
}

async function withServers<T>(env: Env, system: ServerKind, count: number, body: (servers: ServerProcess[]) => Promise<T>): Promise<T> {
  const servers: ServerProcess[] = []
  try {
    for (let i = 0; i < count; i++) servers.push(await ServerProcess.start(system, env.redisUrl))
    return await body(servers)
  } finally {
    await Promise.all(servers.map((server) => server.close()))
  }
}

/** Calls of each Redis command so far (INFO commandstats), scripts and pub/sub included. */
async function commandCalls(redisUrl: string): Promise<Map<string, number>> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const info = await redis.info('commandstats')
    const calls = new Map<string, number>()
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]))
    return calls
  } finally {
    redis.disconnect()
  }
}

/** Commands per update between two {@link commandCalls} readings (INFO itself left out). */
function callsPerUpdate(before: Map<string, number>, after: Map<string, number>, updates: number): Record<string, number> {
  const per: Record<string, number> = {}
  for (const [name, calls] of after) {
    const made = calls - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0)
    if (made > 0 && updates > 0) per[name] = made / updates
  }
  return per
}

/** Whether this measurement runs its relay under the CPU profiler (`--profile`: remem only). */
const profiles = (env: Env, system: ServerKind): boolean => env.profileDir !== undefined && system === 'remem'

/** Closed-loop writers: `writers` of them over `docs` documents, acked updates/s. */
export function writersWorkload(id: string, label: string, writers: number, docs: number, durationMs: number): Workload {
  return {
    id,
    label,
    systems: ALL_SYSTEMS,
    kind: 'throughput',
    measure: (env, system) =>
      withServers(env, system, 1, async ([server]) => {
        const names = Array.from({ length: docs }, () => env.name(`${id}-${system}`))
        const group = new ClientGroup(`${id} writers`, {
          type: 'writers',
          system,
          url: server!.url,
          docs: names,
          writers,
          window: Math.max(1, Math.ceil(TOTAL_WINDOW / writers)),
          warmupMs: Math.min(1_000, durationMs / 3),
          durationMs,
        })
        const profiling = profiles(env, system)
        try {
          await group.next('measuring', 120_000)
          if (profiling) await server!.profile()
          const callsBefore = await commandCalls(env.redisUrl)
          const syscallsBefore = syscallCounts(server!.pid)
          const meter = cpuMeter({ server: server!.pid, clients: group.pid, redis: env.redisPid })
          await group.next('measured')
          const cpu = meter()
          const syscallsAfter = syscallCounts(server!.pid)
          const callsAfter = await commandCalls(env.redisUrl)
          if (profiling) await server!.profile(`${env.profileDir}/${names[0]}.cpuprofile`)
          const done = await group.next('done')
          return {
            redisCalls: callsPerUpdate(callsBefore, callsAfter, done.acked!),
            serverSyscalls: {
              reads: (syscallsAfter.reads - syscallsBefore.reads) / done.acked!,
              writes: (syscallsAfter.writes - syscallsBefore.writes) / done.acked!,
              switches: (syscallsAfter.switches - syscallsBefore.switches) / done.acked!,
            },
            value: (done.acked! / done.elapsedMs!) * 1000,
            second: null,
            cpu,
            lost: done.lost ?? null,
            behind: done.behind ?? 0,
            errors: done.errors,
            firstError: done.firstError,
            load: os.loadavg()[0]!,
          }
        } finally {
          await group.close()
        }
      }),
  }
}

/** One writer at `perSecond` on server A, `readers` readers on server B (or A): latency. */
export function fanoutWorkload(
  id: string,
  label: string,
  readers: number,
  opts: { perSecond: number; durationMs: number; twoRelays: boolean },
): Workload {
  return {
    id,
    label,
    systems: opts.twoRelays ? ['remem', 'hocuspocus'] : ALL_SYSTEMS,
    kind: 'latency',
    measure: (env, system) =>
      withServers(env, system, opts.twoRelays ? 2 : 1, async (servers) => {
        const doc = env.name(`${id}-${system}`)
        const [a, b] = [servers[0]!, servers.at(-1)!]
        const readerGroup = new ClientGroup(`${id} readers`, { type: 'readers', system, url: b.url, doc, readers })
        const writerGroup = new ClientGroup(`${id} writer`, {
          type: 'writer',
          system,
          url: a.url,
          doc,
          perSecond: opts.perSecond,
          durationMs: opts.durationMs,
        })
        try {
          await readerGroup.next('ready', 120_000)
          await writerGroup.next('ready', 120_000)
          const pids: Record<string, number | undefined> = opts.twoRelays
            ? { 'server A': a.pid, 'server B': b.pid }
            : { server: a.pid }
          // Profiled: the server the readers are on, from the first update to the readers' verdict.
          const profiling = profiles(env, system)
          if (profiling) await b.profile()
          const meter = cpuMeter({ ...pids, readers: readerGroup.pid, writer: writerGroup.pid, redis: env.redisPid })
          writerGroup.send({ type: 'go' })
          const written = await writerGroup.next('done')
          readerGroup.send({ type: 'finish', lastSeq: written.lastSeq! })
          const seen = await readerGroup.next('done')
          const cpu = meter()
          if (profiling) await b.profile(`${env.profileDir}/${doc}.cpuprofile`)
          return {
            value: seen.latency!.p50,
            second: seen.latency!.p99,
            cpu,
            lost: null,
            behind: seen.behind ?? 0,
            errors: seen.errors + written.errors,
            firstError: written.firstError ?? seen.firstError,
            load: os.loadavg()[0]!,
          }
        } finally {
          await Promise.all([readerGroup.close(), writerGroup.close()])
        }
      }),
  }
}

/** `connections` idle clients (`perDoc` per document, `perProcess` per client process): server memory per connection. */
export function idleWorkload(id: string, label: string, connections: number, perDoc: number, perProcess: number): Workload {
  return {
    id,
    label,
    systems: ALL_SYSTEMS,
    kind: 'memory',
    connections,
    measure: (env, system) =>
      withServers(env, system, 1, async ([server]) => {
        const before = await server!.memory()
        const docs = Array.from({ length: Math.ceil(connections / perDoc) }, () => env.name(`${id}-${system}`))
        const groups: ClientGroup[] = []
        try {
          for (let opened = 0, i = 0; opened < connections; opened += perProcess, i++) {
            const count = Math.min(perProcess, connections - opened)
            // Each group's documents are its own slice, so that every document has `perDoc` clients.
            const first = opened / perDoc
            groups.push(
              new ClientGroup(`${id} clients ${i}`, {
                type: 'idle',
                system,
                url: server!.url,
                docs: docs.slice(first, first + Math.ceil(count / perDoc)),
                connections: count,
              }),
            )
          }
          const meter = cpuMeter({ server: server!.pid, ...Object.fromEntries(groups.map((g, i) => [`clients ${i}`, g.pid])) })
          await Promise.all(groups.map((group) => group.next('ready', 600_000)))
          const cpu = meter()
          await new Promise((resolve) => setTimeout(resolve, 2_000))
          const after = await server!.memory()
          for (const group of groups) group.send({ type: 'finish', lastSeq: 0 })
          const done = await Promise.all(groups.map((group) => group.next('done')))
          return {
            value: (after.rss - before.rss) / connections,
            second: (after.heapUsed - before.heapUsed) / connections,
            cpu,
            lost: null,
            behind: 0,
            errors: done.reduce((sum, d) => sum + d.errors, 0),
            firstError: done.find((d) => d.firstError)?.firstError ?? null,
            load: os.loadavg()[0]!,
            youngGeneration: { before: before.youngGeneration, after: after.youngGeneration },
          }
        } finally {
          await Promise.all(groups.map((group) => group.close()))
        }
      }),
  }
}
