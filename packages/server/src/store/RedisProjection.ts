/**
 * The projection on Redis: plain string keys `P{name}:{key}` in the wrapped layout, the
 * `remem:{P{name}}:proj` hash of recorded value hashes, and keyspace notifications for
 * changes that other Redis clients make.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Json } from '@remem/client/protocol'
import type {
  ClaimResult,
  KeyEvent,
  KeyRead,
  KeyspaceMode,
  Projection,
  ProjectionWrite,
  WriteResult,
} from './Projection.ts'
import { splitProjectionKey } from './Projection.ts'
import { isConnectionLoss } from './connectionLoss.ts'
import { callThenWait } from './durability.ts'
import { OwnWriteEvents, type OwnWriteStats, eventsOfWrite } from './OwnWriteEvents.ts'
import { ProjectBatch, type ProjectCall, type ProjectCommands } from './ProjectBatch.ts'
import { claimScript, confirmScript, projectManyScript, projectScript } from './projectionScripts.ts'
import { handleResubscriptions, whenReady } from './redisReady.ts'
import {
  escapeGlob,
  isWrappedText,
  parseElement,
  parseStoredString,
  recordFor,
  valueHash,
  wrapValue,
} from './projectionFormat.ts'

/** Keyspace event classes the relay needs: generic, string, list, set, hash, zset, expired, evicted. */
const NEEDED_FLAGS = 'g$lshzxe'

/** Longest wait for the subscriber's PONG that proves a write's events arrived. */
const BARRIER_TIMEOUT_MS = 2_000

interface ProjectionCommands extends ProjectCommands {
  rememClaim(valueKey: string, projKey: string, ...args: string[]): Promise<[number, (number | string)?]>
  rememConfirm(valueKey: string, projKey: string, ...args: string[]): Promise<number>
}

export interface RedisProjectionOptions {
  redis: Redis
  prefix: string
  /** 'off': no keyspace notifications; changes are found by periodic reconcile. */
  keyspace: KeyspaceMode
  /**
   * Replicas that must hold an ingest's claim before it is applied, and its confirm before it
   * counts (`WAIT`), as they must hold an append before it is acknowledged. @default 0
   */
  ackReplicas?: number
  /** With `ackReplicas`, how long `WAIT` waits. @default 2000 */
  ackTimeoutMs?: number
}

export class RedisProjection implements Projection {
  protected readonly redis: Redis & ProjectionCommands
  protected readonly prefix: string
  private subscriber: Redis | null = null
  /** Holds the keyspace events of this relay's own writes while watching (one Redis only). */
  private ownWrites: OwnWriteEvents | null = null
  /** The writes of one turn as one script call (one Redis; a cluster pipelines per slot). */
  private readonly batch: ProjectBatch | null

  constructor(protected readonly options: RedisProjectionOptions) {
    this.prefix = options.prefix
    const redis = options.redis as Redis & Partial<ProjectionCommands>
    if (!redis.rememProject) redis.defineCommand('rememProject', { numberOfKeys: 2, lua: projectScript })
    if (!redis.rememClaim) redis.defineCommand('rememClaim', { numberOfKeys: 2, lua: claimScript })
    if (!redis.rememConfirm) redis.defineCommand('rememConfirm', { numberOfKeys: 2, lua: confirmScript })
    const batched = redis instanceof Redis
    if (batched && !redis.rememProjectMany) redis.defineCommand('rememProjectMany', { lua: projectManyScript })
    this.redis = redis as Redis & ProjectionCommands
    this.batch = batched ? new ProjectBatch(this.redis) : null
  }

  protected valueKey(name: string, key: string): string {
    return `${this.prefix}${name}:${key}`
  }

  /** The hash holding `key`'s record: here the memory's `proj` hash. */
  protected projKey(name: string, _key?: string): string {
    return `remem:{${this.prefix}${name}}:proj`
  }

  /** The field of `key`'s record in {@link projKey}: here the key itself. */
  protected recordField(_name: string, key: string): string {
    return key
  }

  async write(name: string, writes: ProjectionWrite[]): Promise<WriteResult> {
    const outcome: WriteResult = { written: 0, conflicts: [], waiting: [] }
    if (writes.length === 0) return outcome
    const fullKeys = writes.map(({ key }) => this.valueKey(name, key))
    const calls = writes.map(({ key, value, expiresAt }, index): ProjectCall => {
      const field = this.recordField(name, key)
      return {
        keys: [fullKeys[index]!, this.projKey(name, key)],
        args:
          value === undefined
            ? [field, 'del', '', '', '']
            : [field, 'set', valueHash(value, expiresAt), wrapValue(value), expiresAt ? String(expiresAt) : ''],
      }
    })
    // Before sending: from now on this relay's events for these keys wait for the replies.
    const own = this.ownWrites
    own?.open(fullKeys)
    let results: Array<[Error | null, unknown]>
    try {
      results = this.batch ? await this.batch.project(calls) : await this.pipelined(calls)
    } catch (error) {
      void own?.settle(fullKeys.map((fullKey) => ({ fullKey, events: [] })), false)
      throw error
    }
    void own?.settle(
      writes.map(({ value, expiresAt }, index) => {
        const [error, result] = results[index] ?? [new Error('no reply')]
        return { fullKey: fullKeys[index]!, events: error ? [] : eventsOfWrite(value === undefined, expiresAt, result === 1) }
      }),
      results.length === writes.length && results.every(([error]) => !error),
    )
    results.forEach(([error, result], index) => {
      if (error) throw error
      if (result === -1) outcome.conflicts.push(writes[index]!.key)
      else if (result === -2) outcome.waiting.push(writes[index]!.key)
      else outcome.written += Number(result)
    })
    return outcome
  }

  /** `calls` in one pipeline (a cluster's: its caller groups them by slot). */
  private async pipelined(calls: ProjectCall[]): Promise<Array<[Error | null, unknown]>> {
    const pipeline = this.redis.pipeline() as unknown as ProjectCommands & {
      exec(): Promise<Array<[Error | null, unknown]> | null>
    }
    for (const { keys, args } of calls) void pipeline.rememProject(...keys, ...args)
    return (await pipeline.exec()) ?? []
  }

  /** Keyspace events of this relay's own writes dropped and passed on; null when not watching. */
  get ownWriteStats(): OwnWriteStats | null {
    return this.ownWrites?.stats ?? null
  }

  async read(name: string, key: string): Promise<KeyRead> {
    return this.readKey(this.valueKey(name, key))
  }

  protected async readKey(fullKey: string): Promise<KeyRead> {
    const type = await this.redis.type(fullKey)
    let value: Json
    let raw: string | null = null
    switch (type) {
      case 'none':
        return { kind: 'absent' }
      case 'string': {
        raw = await this.redis.get(fullKey)
        if (raw === null) return { kind: 'absent' }
        value = parseStoredString(raw)
        break
      }
      case 'hash': {
        const fields = await this.redis.hgetall(fullKey)
        const dict: Record<string, Json> = {}
        for (const [field, text] of Object.entries(fields)) {
          Object.defineProperty(dict, field, { value: parseElement(text), enumerable: true, writable: true, configurable: true })
        }
        value = dict
        break
      }
      case 'list':
        value = (await this.redis.lrange(fullKey, 0, -1)).map(parseElement)
        break
      default:
        return { kind: 'unsupported', type }
    }
    const at = Number(await this.redis.call('PEXPIRETIME', fullKey))
    return at > 0 ? { kind: 'value', value, raw, expiresAt: at } : { kind: 'value', value, raw }
  }

  async readAll(name: string): Promise<{ keys: Map<string, KeyRead>; recorded: Map<string, string> }> {
    const keys = new Map<string, KeyRead>()
    const pattern = `${escapeGlob(`${this.prefix}${name}:`)}*`
    let cursor = '0'
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      for (const fullKey of batch) {
        const split = splitProjectionKey(this.prefix, fullKey)
        if (split && split.name === name) keys.set(split.key, await this.readKey(fullKey))
      }
    } while (cursor !== '0')
    const recorded = new Map(Object.entries(await this.redis.hgetall(this.projKey(name))))
    return { keys, recorded }
  }

  async claim(name: string, key: string, read: KeyRead, owner: string, leaseMs: number): Promise<ClaimResult> {
    if (read.kind === 'unsupported') return { kind: 'skip' }
    const record = read.kind === 'absent' ? '' : recordFor(read.value, read.expiresAt, read.raw)
    const keys = [this.valueKey(name, key), this.projKey(name, key)] as const
    const args = [this.recordField(name, key), record, owner, String(Math.max(1, Math.round(leaseMs)))]
    const [[code, detail], replicated] = await this.withReplicas<[number, (number | string)?]>((commands) =>
      commands.rememClaim(...keys, ...args),
    )
    if (code === 1) {
      // A claim a failover could undo must not be applied: the document would then hold a
      // change whose record Redis forgot, and a later delete of the key would look like
      // nothing to ingest.
      if (!replicated) return { kind: 'unreplicated' }
      return { kind: 'claimed', replaced: detail ? String(detail).split(',') : [] }
    }
    if (code === 2) return { kind: 'busy', retryMs: Number(detail) }
    return { kind: 'skip' }
  }

  /**
   * Runs one script call, followed by `WAIT ackReplicas` on the same connection when
   * `ackReplicas` is set (a cluster pipeline stays on the script's slot). Resolves with the
   * script's reply and whether enough replicas acknowledged it.
   */
  private async withReplicas<T>(call: (commands: ProjectionCommands) => Promise<unknown>): Promise<[T, boolean]> {
    const { ackReplicas = 0, ackTimeoutMs = 2_000 } = this.options
    if (ackReplicas === 0) return [(await call(this.redis)) as T, true]
    const { error, reply, replicas } = await callThenWait(this.redis, ackReplicas, ackTimeoutMs, call)
    if (error) throw error
    return [reply as T, replicas >= ackReplicas]
  }

  async confirm(name: string, key: string, read: KeyRead, owner: string): Promise<void> {
    if (read.kind === 'unsupported') return
    let args: string[]
    if (read.kind === 'absent') {
      args = [this.recordField(name, key), '', owner, '', '', '']
    } else {
      const record = recordFor(read.value, read.expiresAt, read.raw)
      const rewrite = read.raw !== null && !isWrappedText(read.raw)
      const wrapped = rewrite ? wrapValue(read.value) : ''
      args = [this.recordField(name, key), record, owner, rewrite ? read.raw! : '', wrapped, rewrite ? recordFor(read.value, read.expiresAt, wrapped) : '']
    }
    const [, replicated] = await this.withReplicas((commands) =>
      commands.rememConfirm(this.valueKey(name, key), this.projKey(name, key), ...args),
    )
    if (!replicated) {
      // A failover could undo it: the claim it replaced then lapses and is ingested again.
      throw new Error(`fewer than ${this.options.ackReplicas} replicas confirmed the ingest of ${key} (ackReplicas)`)
    }
  }

  /**
   * Enables the keyspace notifications the relay needs. Where CONFIG is not allowed (managed
   * Redis), checks that notifications already arrive; otherwise says exactly what to run.
   */
  async setupKeyspace(): Promise<void> {
    const reply = (await this.redis.config('GET', 'notify-keyspace-events').catch(() => null)) as string[] | null
    const current = reply?.[1] ?? ''
    const wanted = mergeFlags(current)
    if (reply && wanted === current) return
    try {
      await this.redis.config('SET', 'notify-keyspace-events', wanted)
    } catch (error) {
      // Redis went away: that is the error to report, not a refused CONFIG.
      if (isConnectionLoss(error)) throw error
      if (await this.notificationsArrive()) return
      throw new Error(
        `Redis refused CONFIG SET notify-keyspace-events (${(error as Error).message}). ` +
          `Run this on the Redis server: CONFIG SET notify-keyspace-events ${wanted} ` +
          `(or set it in redis.conf / your provider's parameter group), ` +
          'or start the relay with --keyspace off to find external changes by periodic reconcile instead.',
        { cause: error },
      )
    }
  }

  /** Writes and deletes a probe key and checks that both keyspace events arrive. */
  private async notificationsArrive(timeoutMs = 1_000): Promise<boolean> {
    const db = (this.redis.options.db as number | undefined) ?? 0
    const probe = `remem:probe:${randomUUID()}`
    const channel = `__keyspace@${db}__:${probe}`
    const listener = handleResubscriptions(this.redis.duplicate())
    listener.on('error', () => {})
    try {
      const seen = new Set<string>()
      const both = new Promise<boolean>((resolve) => {
        listener.on('message', (_channel: string, event: string) => {
          seen.add(event)
          if (seen.has('set') && seen.has('del')) resolve(true)
        })
        setTimeout(() => resolve(false), timeoutMs).unref()
      })
      await listener.subscribe(channel)
      await this.redis.set(probe, '1', 'PX', timeoutMs)
      await this.redis.del(probe)
      return await both
    } catch {
      return false
    } finally {
      listener.disconnect()
    }
  }

  async watch(listener: (event: KeyEvent) => void, onGap?: () => void): Promise<() => Promise<void>> {
    if (this.options.keyspace === 'off') return async () => {}
    await this.setupKeyspace()
    const db = (this.redis.options.db as number | undefined) ?? 0
    const channelPrefix = `__keyspace@${db}__:`
    const pattern = `${channelPrefix}${escapeGlob(this.prefix)}*`
    // Re-subscribed below, not by ioredis: its automatic re-PSUBSCRIBE is a promise nobody
    // handles, rejected ("Connection is closed") when the connection closes again first,
    // and an unhandled rejection ends the process.
    const subscriber = this.redis.duplicate({ autoResubscribe: false })
    this.subscriber = subscriber
    subscriber.on('error', () => {})
    const deliver = (fullKey: string, event: string): void => {
      const split = splitProjectionKey(this.prefix, fullKey)
      if (split) listener({ ...split, event })
    }
    const own = new OwnWriteEvents(
      deliver,
      sharedPerTurn(() => barrier(subscriber)),
    )
    this.ownWrites = own
    let connectedOnce = false
    subscriber.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true
        return
      }
      // A failure here means the connection is gone again: the next 'ready' subscribes again.
      subscriber.psubscribe(pattern).then(() => own.subscribed(), () => undefined)
      // Reconnected: events were missed, and a restarted Redis forgets CONFIG SET.
      void this.setupKeyspace()
        .catch(() => undefined)
        .then(() => onGap?.())
    })
    // Events may be missing across a reconnect: no window may drop what it holds then.
    subscriber.on('close', () => own.connectionLost())
    subscriber.on('pmessage', (_pattern: string, channel: string, event: string) => {
      const fullKey = channel.slice(channelPrefix.length)
      if (!own.hold(fullKey, event)) deliver(fullKey, event)
    })
    // Only once ready: a PSUBSCRIBE during the handshake breaks it (see redisReady.ts).
    await whenReady(subscriber)
    await subscriber.psubscribe(pattern)
    // Resolved: the pattern is subscribed on the connection now up (as after each re-subscription).
    if (subscriber.status === 'ready') own.subscribed()
    return async () => {
      this.subscriber = null
      this.ownWrites = null
      own.clear()
      // Closing the connection ends its subscription; a PUNSUBSCRIBE first would wait for a
      // Redis that may not answer (paused) and keep a shutting-down relay alive.
      subscriber.disconnect()
    }
  }
}

/**
 * Resolves true once every message Redis published to `subscriber` before this call has
 * arrived: a PING in subscriber mode is answered in order with them. False when the PONG
 * does not come within {@link BARRIER_TIMEOUT_MS} or the connection fails.
 */
async function barrier(subscriber: Redis): Promise<boolean> {
  if (subscriber.status !== 'ready') return false
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), BARRIER_TIMEOUT_MS)
    timer.unref?.()
  })
  try {
    return await Promise.race([subscriber.ping().then(() => true, () => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `barrier` shared by the callers of one event-loop turn (the projection writes of many
 * memories settle together): one PING, sent once the turn's I/O is handled, hence after each
 * of them asked, so behind every event any of them waits for.
 */
function sharedPerTurn(barrier: () => Promise<boolean>): () => Promise<boolean> {
  let next: Promise<boolean> | null = null
  return () => {
    next ??= new Promise<boolean>((resolve) => {
      setImmediate(() => {
        next = null
        barrier().then(resolve, () => resolve(false))
      })
    })
    return next
  }
}

/** Adds the flags remem needs to a `notify-keyspace-events` value. */
export function mergeFlags(current: string): string {
  const flags = new Set(current.split(''))
  if (!flags.has('K')) flags.add('K')
  const all = flags.has('A')
  for (const flag of NEEDED_FLAGS) if (!(all && 'g$lshzxetd'.includes(flag))) flags.add(flag)
  return [...flags].join('')
}
