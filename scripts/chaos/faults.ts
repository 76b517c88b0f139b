/**
 * The seeded fault loop: every 0.3–2 s it picks a fault and runs it in the background, so
 * faults overlap (a relay killed while Redis is down), but never two on one target.
 */
import { appendFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import type { RedisServer } from '../../test/redisServer.ts'
import type { Prng } from './prng.ts'
import { type RelayProcess, sleep } from './processes.ts'

export const FAULT_KINDS = ['relayKill', 'relayTerm', 'redisKill', 'redisPause', 'pubsubKill', 'writerKill'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const WEIGHTS: Record<FaultKind, number> = {
  relayKill: 4,
  relayTerm: 3,
  redisKill: 2,
  redisPause: 2,
  pubsubKill: 2,
  writerKill: 2,
}

/** What the fault loop acts on. */
export interface FaultTargets {
  relays: RelayProcess[]
  redis: RedisServer
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
      FAULT_KINDS.map((kind) => [kind, !kinds || kinds.includes(kind) ? WEIGHTS[kind] : 0]),
    ) as Record<FaultKind, number>
  }

  /** Injects faults until `until` (ms since the epoch), then waits for every fault to be undone. */
  async run(until: number, inject = true): Promise<void> {
    if (!inject) return sleep(until - Date.now())
    while (Date.now() < until) {
      await sleep(this.prng.int(300, 2000))
      if (Date.now() >= until) break
      const kind = this.prng.weighted(this.weights)
      const target = this.targetOf(kind)
      if (target === null || this.busy.has(target)) continue
      this.counts[kind]++
      this.busy.add(target)
      const done: Promise<void> = this.inject(kind, target)
        .catch((error: unknown) => this.log(`${kind} ${target} failed: ${String(error)}`))
        .finally(() => {
          this.busy.delete(target)
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

  private targetOf(kind: FaultKind): string | null {
    switch (kind) {
      case 'relayKill':
      case 'relayTerm':
        return `relay${this.prng.int(0, this.targets.relays.length - 1)}`
      case 'redisKill':
      case 'redisPause':
      case 'pubsubKill':
        return 'redis'
      case 'writerKill':
        return 'writers'
    }
  }

  private async inject(kind: FaultKind, target: string): Promise<void> {
    const relay = this.targets.relays[Number(target.slice('relay'.length))]
    const redis = this.targets.redis
    switch (kind) {
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

  private log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line}\n`)
  }
}
