import { Cluster, Redis } from 'ioredis'
import type { KeyspaceMode } from './Projection.ts'
import { RedisProjection } from './RedisProjection.ts'
import type { RedisOptions } from 'ioredis'
import { isConnectionLoss } from './connectionLoss.ts'
import { callThenWait, durabilityWarning, readDurability } from './durability.ts'
import { type PresenceBus, RedisPresenceBus } from './PresenceBus.ts'
import { writeOncePerTurn } from './writesPerTurn.ts'
import { handleResubscriptions, whenReady } from './redisReady.ts'
import { AppendBatch, type AppendCommands } from './AppendBatch.ts'
import { appendManyScript, appendScript, compactScript, loadScript, readSinceScript, switchEpochScript } from './redisScripts.ts'
import {
  type RedisTarget,
  describeRedisOptions,
  ioredisArguments,
  maskRedisUrl,
} from './redisUrl.ts'
import {
  type AppendResult,
  EpochChangedError,
  type EpochSwitch,
  KEPT_ENDED_VECTORS,
  type LogEntry,
  type PublishedUpdate,
  type Store,
  type StoreStatus,
  type StoredMemory,
} from './Store.ts'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Where Redis is: a URL (`redis://`, `rediss://`, `unix:///path/redis.sock`), ioredis
   * options (with an optional `url` they add to, e.g. `{ url, tls: { ca } }`), or an ioredis
   * instance. An instance stays the caller's: `close()` leaves it open (the subscriber
   * duplicated from it is closed).
   * @example 'redis://user:password@127.0.0.1:6379/0'
   */
  redis: RedisTarget | Redis
  /**
   * Prefix of the memories' keys; internal keys are `remem:{<prefix><name>}:…`.
   * @default 'memory:'
   */
  prefix?: string
  /**
   * 'on': the relay enables and follows keyspace notifications for projection keys.
   * 'off': it does not (managed Redis without CONFIG); changes are found by reconcile.
   * @default 'on'
   */
  keyspace?: KeyspaceMode
  /**
   * Replicas that must hold an append before it resolves (Redis `WAIT`), so that an
   * acknowledged update survives the failover of its primary. Appends whose replicas do not
   * confirm within `ackTimeoutMs` reject and are retried (the update is not acked before).
   * @default 0
   */
  ackReplicas?: number
  /** With `ackReplicas`, how long `WAIT` waits for the replicas. @default 2000 */
  ackTimeoutMs?: number
}

/** Options of {@link RedisStore.connect}. */
export interface RedisConnectOptions extends RedisStoreOptions {
  /**
   * How long to wait for Redis to answer PING before giving up.
   * @default 5000, or ioredis' `connectTimeout` when that is longer
   */
  timeoutMs?: number
}

type RawEntry = [Buffer, Buffer[]]

interface RememCommands {
  rememAppend(
    log: string,
    snapshot: string,
    epoch: string,
    channel: string,
    relayId: string,
    expectedEpoch: string,
    ...updates: Buffer[]
  ): Promise<[string, number, ...string[]]>
  rememLoadBuffer(log: string, snapshot: string, epoch: string): Promise<[Buffer | null, Buffer, RawEntry[], Buffer | null]>
  rememSwitchEpoch(
    log: string,
    snapshot: string,
    epoch: string,
    vectors: string,
    channel: string,
    from: string,
    uptoId: string,
    snapshotValue: Buffer,
    epochValue: Buffer,
    endedVector: Buffer,
    kept: string,
  ): Promise<number>
  rememReadSinceBuffer(log: string, snapshot: string, afterId: string): Promise<RawEntry[] | null>
  rememCompact(
    log: string,
    snapshot: string,
    uptoId: string,
    minId: string,
    value: Buffer,
  ): Promise<number>
}

interface Subscription {
  listener: (update: PublishedUpdate) => void
  onEpoch: ((epoch: number) => void) | undefined
}

interface Channel {
  subscriptions: Set<Subscription>
  ready: Promise<unknown>
}

const PIPE = 124
/** A broadcast that announces a new epoch: `epoch|<n>` (log ids never start with a letter). */
const EPOCH_PREFIX = Buffer.from('epoch|')
const idPattern = /^\d+-\d+$/

/**
 * Reconnects with capped, jittered exponential backoff (100 ms doubling to 2 s). Commands
 * wait in the offline queue through one reconnect attempt and then reject, so `append`
 * fails within seconds while Redis is down instead of hanging.
 */
const connectionDefaults: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 5000,
  retryStrategy: (attempt) =>
    Math.round(Math.min(50 * 2 ** attempt, 2000) * (0.75 + Math.random() / 2)),
}

/**
 * The store on Redis (ioredis): a stream per memory as the log, a string as the snapshot,
 * and a pub/sub channel per memory between relays. Uses one command connection and one
 * subscriber connection, both binary-safe.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const
  /** Prefix of the memories' keys. */
  readonly prefix: string
  protected location: string
  protected readonly redis: Redis & RememCommands
  protected ownsConnection: boolean
  protected subscriber: Redis | null = null
  /** Appends of one turn as one script call (one Redis without ackReplicas; see AppendBatch). */
  private readonly batch: AppendBatch | null
  private readonly ackReplicas: number
  private readonly ackTimeoutMs: number
  private readonly channels = new Map<string, Channel>()
  private readonly statusListeners = new Set<(status: StoreStatus) => void>()
  private readonly detach: Array<() => void> = []
  private commandUp = true
  private subscriberUp = true
  private reported: StoreStatus = 'up'
  protected lastError: Error | null = null
  private closed = false
  readonly projection: RedisProjection
  /** Presence shared among relays on each memory's presence channel (see PresenceLink). */
  readonly presence: PresenceBus

  constructor(options: RedisStoreOptions) {
    this.prefix = options.prefix ?? 'memory:'
    this.location = describeRedis(options.redis)
    const given = options.redis
    this.ownsConnection = !isClient(given)
    const redis = isClient(given) ? given : createConnection(given)
    // The commands of all memories in one event-loop turn leave in one socket write.
    if (redis instanceof Redis) writeOncePerTurn(redis)
    this.ackReplicas = options.ackReplicas ?? 0
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2000
    redis.defineCommand('rememAppend', { numberOfKeys: 3, lua: this.appendLua })
    redis.defineCommand('rememLoad', { numberOfKeys: 3, lua: loadScript })
    // Publishes as the append script does (RedisClusterStore: SPUBLISH on the shard channel).
    const sharded = this.appendLua !== appendScript
    redis.defineCommand('rememSwitchEpoch', {
      numberOfKeys: 4,
      lua: sharded ? switchEpochScript.replace("redis.call('PUBLISH',", "redis.call('SPUBLISH',") : switchEpochScript,
    })
    redis.defineCommand('rememReadSince', { numberOfKeys: 2, lua: readSinceScript })
    redis.defineCommand('rememCompact', { numberOfKeys: 2, lua: compactScript })
    this.redis = redis as Redis & RememCommands
    // The keys of several memories span slots: on a cluster each memory appends on its own.
    const batched = redis instanceof Redis && !sharded && this.ackReplicas === 0
    if (batched) redis.defineCommand('rememAppendMany', { lua: appendManyScript })
    this.batch = batched ? new AppendBatch(redis as Redis & AppendCommands) : null
    this.projection = this.createProjection(redis, options.keyspace ?? 'on')
    this.presence = new RedisPresenceBus(redis, sharded, (name) => `${this.channelOf(name)}:presence`)
    this.watch(redis, (up) => {
      this.commandUp = up
    })
  }

  /** The append script (RedisClusterStore publishes on a shard channel instead). */
  protected get appendLua(): string {
    return appendScript
  }

  /**
   * A warning when an acknowledged update could be lost with one Redis process (neither AOF
   * nor replicas), or when `ackReplicas` asks for more replicas than are connected; else null.
   */
  async durabilityWarning(): Promise<string | null> {
    return durabilityWarning(await readDurability(this.primaries()), this.ackReplicas)
  }

  /** The primaries holding memories (RedisClusterStore: every primary of the cluster). */
  protected primaries(): Redis[] {
    return [this.redis]
  }

  /** What the projection's ingests wait for, as appends do. */
  protected get replication(): { ackReplicas: number; ackTimeoutMs: number } {
    return { ackReplicas: this.ackReplicas, ackTimeoutMs: this.ackTimeoutMs }
  }

  /** The projection on `redis` (RedisClusterStore keeps records in each key's slot). */
  protected createProjection(redis: Redis, keyspace: KeyspaceMode): RedisProjection {
    return new RedisProjection({ redis, prefix: this.prefix, keyspace, ...this.replication })
  }

  /**
   * Creates a store and waits until Redis answers PING. Rejects within `timeoutMs` with an
   * error that names the URL (password masked) and what to check.
   * @example const store = await RedisStore.connect({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
   */
  static async connect(options: RedisConnectOptions): Promise<RedisStore> {
    const given = options.redis
    const redis = given instanceof Redis ? given : createConnection(given, { lazyConnect: true })
    // A longer connectTimeout than the default wait must get its chance to succeed.
    const { timeoutMs = Math.max(5000, redis.options.connectTimeout ?? 0) } = options
    const store = new RedisStore({ ...options, redis })
    store.ownsConnection = !(given instanceof Redis)
    store.location = describeRedis(given)
    return RedisStore.whenReachable(store, timeoutMs, async () => {
      if (redis.status === 'wait') await redis.connect()
      await redis.ping()
    })
  }

  /**
   * Resolves `store` once `connect` succeeded and its pub/sub connection is ready; closes it
   * and rejects naming where Redis is and what to check when that takes over `timeoutMs`.
   */
  protected static async whenReachable<S extends RedisStore>(
    store: S,
    timeoutMs: number,
    connect: () => Promise<void>,
  ): Promise<S> {
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await Promise.race([
        (async () => {
          await connect()
          // The pub/sub connection too, before any memory subscribes (see redisReady.ts).
          await whenReady(store.subscriberConnection())
        })(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer to PING within ${timeoutMs} ms`)),
            timeoutMs,
          )
        }),
      ])
    } catch (error) {
      const reason = describeError(store.lastError ?? error)
      await store.close()
      throw new Error(`Cannot reach Redis at ${store.where} (${reason}). ${hintFor(reason)}`, {
        cause: error,
      })
    } finally {
      clearTimeout(timer)
    }
    return store
  }

  /** Where Redis is, as a URL with the password masked; for logs and messages. */
  get where(): string {
    return this.location
  }

  /**
   * `error` as one line naming where Redis is (password masked) and what to check, when it
   * says the connection was lost while `doing`; any other error unchanged.
   * @example throw store.explainLoss(error, 'starting')
   */
  explainLoss(error: unknown, doing: string): unknown {
    if (!isConnectionLoss(error)) return error
    const retriesSpent = error instanceof Error && error.name === 'MaxRetriesPerRequestError'
    // ioredis' retry count says nothing useful here; the connection's own error does.
    const reason = this.lastError
      ? describeError(this.lastError)
      : retriesSpent
        ? 'the connection closed and did not come back'
        : describeError(error)
    return new Error(`Lost Redis at ${this.where} while ${doing} (${reason}). ${hintFor(reason)}`, {
      cause: error,
    })
  }

  async load(name: string): Promise<StoredMemory> {
    const [value, lastId, raw, epochValue] = await this.redis.rememLoadBuffer(
      this.logKey(name),
      this.snapshotKey(name),
      this.epochKey(name),
    )
    let snapshot: Uint8Array | null = null
    if (value) {
      const bar = value.indexOf(PIPE)
      snapshot = new Uint8Array(value.subarray(bar + 1))
    }
    let epoch = 0
    let previousVector: Uint8Array | null = null
    if (epochValue) {
      const bar = epochValue.indexOf(PIPE)
      epoch = Number(epochValue.toString('latin1', 0, bar))
      previousVector = new Uint8Array(epochValue.subarray(bar + 1))
    }
    return { snapshot, entries: raw.map(toEntry), lastId: lastId.toString(), epoch, previousVector }
  }

  async append(name: string, updates: Uint8Array[], relayId: string, epoch?: number): Promise<AppendResult> {
    if (relayId.includes('|')) throw new Error(`relayId must not contain '|': ${relayId}`)
    const keys = [this.logKey(name), this.snapshotKey(name), this.epochKey(name)] as const
    const channel = this.channelOf(name)
    const expected = epoch === undefined ? '' : String(epoch)
    if (this.batch) {
      const [prevId, logLength, ...ids] = await this.batch
        .append(keys, channel, relayId, expected, updates.map(toBuffer))
        .catch((error: unknown) => {
          throw epochError(name, error)
        })
      return { ids, prevId, logLength }
    }
    const args = [channel, relayId, expected, ...updates.map(toBuffer)] as const
    if (this.ackReplicas === 0) {
      const [prevId, logLength, ...ids] = await this.redis.rememAppend(...keys, ...args).catch((error: unknown) => {
        throw epochError(name, error)
      })
      return { ids, prevId, logLength }
    }
    const { error: appendError, reply: appended, replicas, waitError } = await callThenWait<RememCommands>(
      this.redis,
      this.ackReplicas,
      this.ackTimeoutMs,
      (pipeline) => pipeline.rememAppend(...keys, ...args),
    )
    if (appendError) throw epochError(name, appendError)
    if (waitError) throw waitError
    if (replicas < this.ackReplicas) {
      throw new Error(
        `only ${String(replicas)} of ${this.ackReplicas} replicas confirmed the append within ` +
          `${this.ackTimeoutMs} ms (ackReplicas); it is retried before being acknowledged`,
      )
    }
    const [prevId, logLength, ...ids] = appended as [string, number, ...string[]]
    return { ids, prevId, logLength }
  }

  async readSince(name: string, afterId: string): Promise<LogEntry[] | null> {
    assertId(afterId, 'afterId')
    const raw = await this.redis.rememReadSinceBuffer(
      this.logKey(name),
      this.snapshotKey(name),
      afterId,
    )
    return raw === null ? null : raw.map(toEntry)
  }

  async compact(name: string, snapshot: Uint8Array, uptoId: string): Promise<boolean> {
    assertId(uptoId, 'uptoId')
    const value = Buffer.concat([Buffer.from(`${uptoId}|`), toBuffer(snapshot)])
    const stored = await this.redis.rememCompact(
      this.logKey(name),
      this.snapshotKey(name),
      uptoId,
      nextId(uptoId),
      value,
    )
    return stored === 1
  }

  async switchEpoch(name: string, change: EpochSwitch): Promise<boolean> {
    assertId(change.uptoId, 'uptoId')
    const snapshotValue = Buffer.concat([Buffer.from(`${change.uptoId}|`), toBuffer(change.snapshot)])
    const epochValue = Buffer.concat([Buffer.from(`${change.from + 1}|`), toBuffer(change.previousVector)])
    const switched = await this.redis.rememSwitchEpoch(
      this.logKey(name),
      this.snapshotKey(name),
      this.epochKey(name),
      this.vectorsKey(name),
      this.channelOf(name),
      String(change.from),
      change.uptoId,
      snapshotValue,
      epochValue,
      toBuffer(change.previousVector),
      String(KEPT_ENDED_VECTORS),
    )
    return switched === 1
  }

  async endedVector(name: string, epoch: number): Promise<Uint8Array | null> {
    const vector = await this.redis.hgetBuffer(this.vectorsKey(name), String(epoch))
    return vector ? new Uint8Array(vector) : null
  }

  async subscribe(
    name: string,
    listener: (update: PublishedUpdate) => void,
    onEpoch?: (epoch: number) => void,
  ): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('RedisStore is closed')
    const key = this.channelOf(name)
    let channel = this.channels.get(key)
    if (!channel) {
      const subscriber = this.subscriberConnection()
      // Only once ready: a SUBSCRIBE during the handshake breaks it (see redisReady.ts).
      channel = {
        subscriptions: new Set(),
        ready: whenReady(subscriber).then(() => this.subscribeChannel(subscriber, key)),
      }
      this.channels.set(key, channel)
    }
    const subscription: Subscription = { listener, onEpoch }
    channel.subscriptions.add(subscription)
    const unsubscribe = async (): Promise<void> => {
      if (!channel.subscriptions.delete(subscription)) return
      if (channel.subscriptions.size > 0 || this.channels.get(key) !== channel) return
      this.channels.delete(key)
      // Messages for a channel without listeners are dropped, so a failure here is harmless.
      if (!this.closed && this.subscriber) {
        await this.unsubscribeChannel(this.subscriber, key).catch(() => undefined)
      }
    }
    try {
      await channel.ready
    } catch (error) {
      await unsubscribe()
      throw error
    }
    return unsubscribe
  }

  onStatus(listener: (status: StoreStatus) => void): () => void {
    this.statusListeners.add(listener)
    return () => {
      this.statusListeners.delete(listener)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.channels.clear()
    this.statusListeners.clear()
    for (const off of this.detach) off()
    await this.presence.close()
    const connections = [this.subscriber, this.ownsConnection ? this.redis : null]
    await Promise.all(connections.map((connection) => connection && quit(connection)))
  }

  private logKey(name: string): string {
    return `remem:{${this.prefix}${name}}:log`
  }

  private snapshotKey(name: string): string {
    return `remem:{${this.prefix}${name}}:snapshot`
  }

  private epochKey(name: string): string {
    return `remem:{${this.prefix}${name}}:epoch`
  }

  private vectorsKey(name: string): string {
    return `remem:{${this.prefix}${name}}:vectors`
  }

  private channelOf(name: string): string {
    return `remem:{${this.prefix}${name}}`
  }

  /** SUBSCRIBE (RedisClusterStore: SSUBSCRIBE). */
  protected subscribeChannel(subscriber: Redis, channel: string): Promise<unknown> {
    return subscriber.subscribe(channel)
  }

  /** UNSUBSCRIBE (RedisClusterStore: SUNSUBSCRIBE). */
  protected unsubscribeChannel(subscriber: Redis, channel: string): Promise<unknown> {
    return subscriber.unsubscribe(channel)
  }

  /** Records whether the pub/sub connection delivers, and reports the store's status. */
  protected setSubscriberUp(up: boolean): void {
    this.subscriberUp = up
    this.updateStatus()
  }

  /** The pub/sub connection, created on first use. */
  protected subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber
    const subscriber = handleResubscriptions(this.redis.duplicate())
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.deliver(channel.toString(), message)
    })
    this.watch(subscriber, (up) => {
      this.subscriberUp = up
    })
    this.subscriber = subscriber
    return subscriber
  }

  protected deliver(key: string, message: Buffer): void {
    const channel = this.channels.get(key)
    if (!channel) return
    if (message.subarray(0, EPOCH_PREFIX.length).equals(EPOCH_PREFIX)) {
      const epoch = Number(message.toString('latin1', EPOCH_PREFIX.length))
      for (const subscription of [...channel.subscriptions]) subscription.onEpoch?.(epoch)
      return
    }
    const update = parsePublished(message)
    if (!update) return
    for (const subscription of [...channel.subscriptions]) {
      try {
        subscription.listener(update)
      } catch (error) {
        console.error('remem: a store subscriber threw', error)
      }
    }
  }

  /** Tracks whether `connection` is usable; the subscriber counts as up once resubscribed. */
  private watch(connection: Redis, setUp: (up: boolean) => void): void {
    const down = (): void => {
      setUp(false)
      this.updateStatus()
    }
    const onError = (error: Error): void => {
      this.lastError = error
      if (connection.status !== 'ready') down()
    }
    const onReady = (): void => {
      if (connection === this.redis) {
        setUp(true)
        this.updateStatus()
        return
      }
      // ioredis resubscribes before emitting 'ready'; the PING answer comes after the
      // SUBSCRIBE confirmations, so from then on no message is missed.
      connection.ping().then(
        () => {
          setUp(true)
          this.updateStatus()
        },
        () => undefined,
      )
    }
    connection.on('error', onError)
    connection.on('close', down)
    connection.on('end', down)
    connection.on('ready', onReady)
    this.detach.push(() => {
      connection.off('error', onError)
      connection.off('close', down)
      connection.off('end', down)
      connection.off('ready', onReady)
    })
  }

  private updateStatus(): void {
    if (this.closed) return
    const status: StoreStatus = this.commandUp && this.subscriberUp ? 'up' : 'down'
    if (status === this.reported) return
    this.reported = status
    for (const listener of [...this.statusListeners]) {
      try {
        listener(status)
      } catch (error) {
        console.error('remem: a store status listener threw', error)
      }
    }
  }
}

function isClient(redis: RedisTarget | Redis): redis is Redis {
  return redis instanceof Redis || redis instanceof Cluster
}

function createConnection(redis: RedisTarget, extra: RedisOptions = {}): Redis {
  const { url, options } = ioredisArguments(redis)
  const merged = { ...connectionDefaults, ...options, ...extra }
  return url === undefined ? new Redis(merged) : new Redis(url, merged)
}

function describeRedis(redis: RedisTarget | Redis): string {
  if (typeof redis === 'string') return maskRedisUrl(redis)
  return describeRedisOptions(redis instanceof Redis ? redis.options : redis)
}

/** What to check, given why connecting failed. */
function hintFor(reason: string): string {
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|user is disabled/i.test(reason)) {
    return (
      "Check the username and password: the URL's user info (--redis or REDIS_URL) or " +
      'REDIS_USERNAME and REDIS_PASSWORD, and that the ACL user is enabled.'
    )
  }
  if (/certificate|self.signed|SSL|TLS|EPROTO|wrong version number/i.test(reason)) {
    return (
      'Check TLS: use rediss:// only where Redis listens with TLS, and for a server with a ' +
      'private or self-signed certificate pass its CA (--redis-tls-ca, REDIS_TLS_CA, or ' +
      "createRelay's redis: { url, tls: { ca } })."
    )
  }
  if (/Command timed out/i.test(reason)) {
    return (
      'Redis accepted the connection but did not answer within the command timeout ' +
      '(--redis-command-timeout-ms, REDIS_COMMAND_TIMEOUT_MS): check that it is not blocked ' +
      'or overloaded, or raise the timeout.'
    )
  }
  if (/ETIMEDOUT/.test(reason)) {
    return (
      'The connection attempt timed out (--redis-connect-timeout-ms, REDIS_CONNECT_TIMEOUT_MS): ' +
      'check the host and port, firewalls, and that rediss:// is used only where Redis speaks TLS.'
    )
  }
  return (
    'Check that redis-server is running and reachable there, and that the Redis URL ' +
    '(--redis or REDIS_URL) has the right host, port, password and db.'
  )
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join('; ')
  }
  if (error instanceof Error) {
    return error.message || (error as NodeJS.ErrnoException).code || error.name
  }
  return String(error)
}

/** How long `close()` waits for Redis to answer QUIT before dropping the connection. */
const QUIT_TIMEOUT_MS = 1_000

async function quit(connection: Redis): Promise<void> {
  // Keep ioredis from reporting errors of a connection that is being closed.
  connection.on('error', () => undefined)
  if (connection.status === 'ready') {
    let timer: ReturnType<typeof setTimeout> | undefined
    // A paused or unreachable Redis never answers: drop the connection instead of waiting.
    const answered = await Promise.race([
      connection.quit().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), QUIT_TIMEOUT_MS))),
    ])
    clearTimeout(timer)
    if (answered) return
  }
  connection.disconnect()
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function toEntry([id, fields]: RawEntry): LogEntry {
  const index = fields.findIndex((field, i) => i % 2 === 0 && field.toString() === 'u')
  const value = fields[index + 1]
  return { id: id.toString(), update: new Uint8Array(value ?? new Uint8Array()) }
}

/** Parses `<id>|<prevId>|<relayId>|<update bytes>`. */
function parsePublished(message: Buffer): PublishedUpdate | null {
  const first = message.indexOf(PIPE)
  const second = message.indexOf(PIPE, first + 1)
  const third = message.indexOf(PIPE, second + 1)
  if (first < 0 || second < 0 || third < 0) return null
  return {
    id: message.toString('latin1', 0, first),
    prevId: message.toString('latin1', first + 1, second),
    origin: message.toString('utf8', second + 1, third),
    update: new Uint8Array(message.subarray(third + 1)),
  }
}

/** The smallest id after `id`: XTRIM MINID keeps it and removes everything up to `id`. */
function nextId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-')
  const next = BigInt(seq) + 1n
  return next > 18446744073709551615n ? `${BigInt(ms) + 1n}-0` : `${ms}-${next}`
}

function assertId(id: string, what: string): void {
  if (!idPattern.test(id))
    throw new Error(`${what} must be a log id like '1700000000000-0', got '${id}'`)
}

/** The append script's `EPOCH <n>` error as an EpochChangedError; any other error unchanged. */
function epochError(name: string, error: unknown): unknown {
  const match = error instanceof Error ? /^EPOCH (\d+)/.exec(error.message) : null
  return match ? new EpochChangedError(name, Number(match[1])) : error
}
