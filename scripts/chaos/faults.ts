/**
 * The seeded fault loop: every 0.3–2 s it picks a fault and runs it in the background, so
 * faults overlap (a relay killed while Redis is down), but never two on one target.
 */
import { appendFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { RedisCluster } from '../../test/redisCluster.ts'
import type { RedisServer } from '../../test/redisServer.ts'
import type { Prng } from './prng.ts'
import { type RelayProcess, sleep } from './processes.ts'

export const FAULT_KINDS = [
  'relayKill',
  'relayTerm',
  'redisKill',
  'redisPause',
  'pubsubKill',
  'writerKill',
  'relayKillWhileRedisDown',
  'primaryKill',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const WEIGHTS: Record<FaultKind, number> = {
  relayKill: 4,
  relayTerm: 3,
  redisKill: 2,
  redisPause: 2,
  pubsubKill: 2,
  writerKill: 2,
  relayKillWhileRedisDown: 2,
  primaryKill: 4,
}

/** The kinds that act on the one redis-server; a cluster run has primaryKill instead. */
const SINGLE_REDIS_KINDS: readonly FaultKind[] = ['redisKill', 'redisPause', 'pubsubKill', 'relayKillWhileRedisDown']

/** What the fault loop acts on. */
export interface FaultTargets {
  relays: RelayProcess[]
  /** The one redis-server, or… */
  redis?: RedisServer
  /** …a Redis Cluster, whose primary serving one of `keys` primaryKill SIGKILLs (rejoined later). */
  cluster?: { cluster: RedisCluster; keys: string[] }
  /** SIGKILLs one writer and starts a replacement with a fresh identity. */
  replaceWriter(): Promise<string>
}

export class FaultLoop {
  /** Faults injected, by kind. */
  readonly counts: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<
    FaultKind,
    number
  >
  /** SIGTERMed relays that needed a SIGKILL after 10 s. */
  termForced = 0
  /** SIGTERMed relays that exited with a code other than 0. */
  termNonZero = 0
  private readonly busy = new Set<string>()
  private readonly inFlight = new Set<Promise<void>>()
  private pausedPid: number | undefined

  private readonly weights: Record<FaultKind, number>

  constructor(
    private readonly prng: Prng,
    private readonly targets: FaultTargets,
    private readonly logFile: string,
    /** Only these kinds; all when absent. */
    kinds?: string[],
  ) {
    const unknown = (kinds ?? []).filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind))
    if (unknown.length > 0) throw new Error(`unknown fault kind ${unknown.join(', ')}; kinds: ${FAULT_KINDS.join(', ')}`)
    this.weights = Object.fromEntries(
      FAULT_KINDS.map((kind) => [kind, (!kinds || kinds.includes(kind)) && this.applies(kind) ? WEIGHTS[kind] : 0]),
    ) as Record<FaultKind, number>
    if (Object.values(this.weights).every((weight) => weight === 0)) {
      throw new Error(`none of the fault kinds ${(kinds ?? FAULT_KINDS).join(', ')} applies to ${targets.cluster ? 'a cluster' : 'one redis-server'}`)
    }
  }

  /** Whether `kind` has a target in this run. */
  private applies(kind: FaultKind): boolean {
    if (kind === 'primaryKill') return this.targets.cluster !== undefined
    return !SINGLE_REDIS_KINDS.includes(kind) || this.targets.redis !== undefined
  }

  /** Injects faults until `until` (ms since the epoch), then waits for every fault to be undone. */
  async run(until: number, inject = true): Promise<void> {
    if (!inject) return sleep(until - Date.now())
    while (Date.now() < until) {
      await sleep(this.prng.int(300, 2000))
      if (Date.now() >= until) break
      const kind = this.prng.weighted(this.weights)
      const targets = this.targetsOf(kind)
      if (targets.some((target) => this.busy.has(target))) continue
      this.counts[kind]++
      for (const target of targets) this.busy.add(target)
      const done: Promise<void> = this.inject(kind, targets)
        .catch((error: unknown) => this.log(`${kind} ${targets.join(' ')} failed: ${String(error)}`))
        .finally(() => {
          for (const target of targets) this.busy.delete(target)
          this.inFlight.delete(done)
        })
      this.inFlight.add(done)
    }
    await Promise.all([...this.inFlight])
  }

  /** Undoes what can be undone at once (a paused Redis), e.g. on Ctrl-C. */
  release(): void {
    if (this.pausedPid !== undefined) process.kill(this.pausedPid, 'SIGCONT')
  }

  /** What `kind` acts on: 'relay<i>', 'redis', 'writers'. */
  private targetsOf(kind: FaultKind): string[] {
    const relay = (): string => `relay${this.prng.int(0, this.targets.relays.length - 1)}`
    switch (kind) {
      case 'relayKill':
      case 'relayTerm':
        return [relay()]
      case 'redisKill':
      case 'redisPause':
      case 'pubsubKill':
        return ['redis']
      case 'writerKill':
        return ['writers']
      case 'primaryKill':
        return ['cluster']
      case 'relayKillWhileRedisDown':
        return ['redis', relay()]
    }
  }

  private async inject(kind: FaultKind, targets: string[]): Promise<void> {
    const relayTarget = targets.find((target) => target.startsWith('relay'))
    const relay = relayTarget === undefined ? undefined : this.targets.relays[Number(relayTarget.slice('relay'.length))]
    if (kind === 'primaryKill') return this.killPrimary()
    const redis = this.targets.redis!
    switch (kind) {
      case 'relayKillWhileRedisDown': {
        // The relay fans out changes it cannot persist, then dies with them: its clients hold
        // each other's unpersisted changes when they come back (issue 9, finding 1).
        const before = this.prng.int(300, 2500)
        const after = this.prng.int(200, 2000)
        this.log(`SIGKILL redis, then relay ${relay!.index} after ${before} ms, redis back ${after} ms later`)
        redis.kill()
        await sleep(before)
        await relay!.stop('SIGKILL')
        await sleep(after)
        await redis.restart()
        this.log('redis running again')
        await sleep(this.prng.int(0, 1500))
        await relay!.start()
        this.log(`relay ${relay!.index} listening again`)
        return
      }
      case 'relayKill':
      case 'relayTerm': {
        const signal = kind === 'relayKill' ? 'SIGKILL' : 'SIGTERM'
        const down = this.prng.int(kind === 'relayKill' ? 200 : 0, 3000)
        this.log(`${signal} relay ${relay!.index}, restart after ${down} ms`)
        const exit = await relay!.stop(signal)
        if (signal === 'SIGTERM' && exit.forced) this.termForced++
        if (signal === 'SIGTERM' && !exit.forced && exit.code !== 0) this.termNonZero++
        this.log(`relay ${relay!.index} exited: code ${exit.code}, signal ${exit.signal}${exit.forced ? ' (needed SIGKILL)' : ''}`)
        await sleep(down)
        await relay!.start()
        this.log(`relay ${relay!.index} listening again`)
        return
      }
      case 'redisKill': {
        const down = this.prng.int(300, 4000)
        this.log(`SIGKILL redis, restart after ${down} ms`)
        redis.kill()
        await sleep(down)
        await redis.restart()
        this.log('redis running again')
        return
      }
      case 'redisPause': {
        const pid = redis.pid
        if (pid === undefined) return
        const ms = this.prng.int(300, 4000)
        this.log(`SIGSTOP redis for ${ms} ms`)
        this.pausedPid = pid
        process.kill(pid, 'SIGSTOP')
        await sleep(ms)
        process.kill(pid, 'SIGCONT')
        this.pausedPid = undefined
        this.log('SIGCONT redis')
        return
      }
      case 'pubsubKill': {
        const admin = new Redis(redis.url, { maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null })
        admin.on('error', () => undefined)
        try {
          const killed = await Promise.race([admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), sleep(2000).then(() => 'timeout')])
          this.log(`CLIENT KILL TYPE pubsub: ${String(killed)}`)
        } finally {
          admin.disconnect()
        }
        return
      }
      case 'writerKill':
        this.log(`SIGKILL writer ${await this.targets.replaceWriter()}`)
        return
    }
  }

  /**
   * SIGKILLs the primary serving a chaos memory's slot, waits for its replica to be promoted,
   * and restarts it 1–5 s later as a replica (until then the slot has no replica, so acks
   * that wait for one stall).
   */
  private async killPrimary(): Promise<void> {
    const { cluster, keys } = this.targets.cluster!
    const key = this.prng.pick(keys)
    this.log(`SIGKILL the primary serving ${key}`)
    const victim = await cluster.killPrimaryOf(key)
    this.log(`primary ${victim.port} killed, a replica promoted`)
    await sleep(this.prng.int(1000, 5000))
    await cluster.rejoin(victim)
    this.log(`${victim.port} rejoined as a replica`)
  }

  private log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line}\n`)
  }
}
