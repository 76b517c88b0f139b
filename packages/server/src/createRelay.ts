import { createServer } from 'node:http'
import { AccessPolicy, type Authorize } from './auth/AccessPolicy.ts'
import { type RelayLimits, resolveLimits } from './limits/limits.ts'
import { type Logger, consoleLogger } from './logger.ts'
import type { RelayMetrics } from './ops/metrics.ts'
import { httpRoutes } from './ops/httpRoutes.ts'
import { RelayInspector } from './inspect/RelayInspector.ts'
import { type RunningInspector, startInspector } from './inspect/startInspector.ts'
import { Relay } from './Relay.ts'
import { DEFAULT_MAX_AWARENESS_BYTES } from './RoomAwareness.ts'
import { openStore } from './store/openStore.ts'
import { RedisStore } from './store/RedisStore.ts'
import type { KeyspaceMode } from './store/Projection.ts'
import type { RedisClusterTarget } from './store/clusterNodes.ts'
import type { RedisTarget } from './store/redisUrl.ts'
import type { Store } from './store/Store.ts'

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** TCP port; 0 picks a free one. @default 8787 */
  port?: number
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string
  /**
   * Redis to keep memories in: a URL (`redis://`, `rediss://` for TLS,
   * `unix:///path/redis.sock?db=N`) or ioredis options, which may add to a `url` (a CA,
   * timeouts). Without it (and without `store`) the relay runs on an in-process store.
   * @example 'redis://app:s3cret@127.0.0.1:6379/0'
   * @example { url: 'rediss://cache:6380', tls: { ca: readFileSync('ca.pem', 'utf8') }, commandTimeout: 2000 }
   */
  redis?: RedisTarget
  /**
   * A Redis Cluster to keep memories in, instead of `redis`: seed nodes (`host:port`), or
   * `{ nodes, redisOptions }` with the settings of every node (username, password, tls).
   * @example ['10.0.0.1:7000', '10.0.0.2:7000']
   */
  redisCluster?: RedisClusterTarget
  /**
   * Replicas that must hold an update before the relay acknowledges it (Redis `WAIT`), so
   * that an ack survives the failover of a primary; acks then take a replication round trip
   * longer. 0 acknowledges once the primary has it.
   * @default 0
   */
  ackReplicas?: number
  /** Prefix of every Redis key of user values. @default 'memory:' */
  prefix?: string
  /**
   * 'on': follow Redis keyspace notifications (the relay enables them with CONFIG SET, or
   * fails at startup naming the command to run where that is not allowed). 'off': find
   * external changes by reconciling loaded memories every `reconcileIntervalMs`.
   * @default 'on'
   */
  keyspace?: KeyspaceMode
  /** With `keyspace: 'off'`, how often loaded memories are reconciled. @default 5000 */
  reconcileIntervalMs?: number
  /** Longest time a change waits before it is written to its plain Redis key. @default 50 */
  projectionCoalesceMs?: number
  /**
   * How long a relay's claim on an external write to a plain key lasts before another relay
   * may ingest it again, when the claimant stopped (crashed) before persisting it.
   * @default 10000
   */
  ingestLeaseMs?: number
  /** A ready store; overrides `redis`. The caller closes it. */
  store?: Store
  /** Unload a memory this long after its last client left. @default 30000 */
  idleUnloadMs?: number
  /** Largest WebSocket frame accepted; larger ones close the socket with 1009. @default 2 MiB */
  maxFrameBytes?: number
  /** Largest update accepted; larger ones are refused. @default 1 MiB */
  maxUpdateBytes?: number
  /** Largest AWARENESS (presence) payload accepted; larger ones are refused. @default 64 KiB */
  maxAwarenessBytes?: number
  /** Largest advance of one Yjs client's clock in one update. @default 10_000_000 */
  maxClockAdvance?: number
  /** Compact a memory once its log holds this many entries. @default 500 */
  compactAfter?: number
  /**
   * Start a new epoch (a fresh document of the same content) when a memory's document
   * outgrows its content, which keeps documents bounded (docs/DESIGN.md, "Epochs"). False:
   * compaction only, and documents keep every tombstone.
   * @default true
   */
  epochs?: boolean
  /** Ping interval; a socket that misses one ping is dropped. @default 15000 */
  heartbeatMs?: number
  /**
   * On `close()`, the longest wait for each step: queued updates to persist, rooms to close,
   * clients to answer the close handshake (a socket whose peer does not is cut). @default 5000
   */
  shutdownTimeoutMs?: number
  /** Where the relay logs: any `{ info, warn, error }` (pino, console). @default one line per event on stderr */
  logger?: Logger
  /**
   * Secret of the built-in tokens (HS256 JWTs from `createToken`), at least 32 characters.
   * With it, clients need a token (sent in AUTH) that names the memory. Without it and
   * without `authorize`, the relay is open: anyone reads and writes every memory.
   * (The CLI reads it from `REMEM_SECRET` or `--secret`.)
   * @default none
   */
  secret?: string
  /**
   * Decides per connection and memory: `'write'`, `'read'` or `'none'` (may be async). It
   * sees the token from AUTH, its verified claims (with `secret`), the memory and the
   * upgrade request. Replaces the built-in decision from the token's claims.
   * @example authorize: ({ token, memory }) => (token === process.env.ADMIN ? 'write' : memory.startsWith('public-') ? 'read' : 'none')
   */
  authorize?: Authorize
  /** Open connections per client address; more get HTTP 429 at the upgrade. 0: no limit. @default 256 */
  maxConnectionsPerIp?: number
  /** Memories one connection may have open; more get ERROR tooManyMemories. @default 100 */
  maxMemoriesPerConnection?: number
  /**
   * Frames per second one connection may send; bursts of twice as many pass at once. Past
   * it the relay reads the connection more slowly (nothing is dropped). @default 5000
   */
  maxMessagesPerSecond?: number
  /** Bytes per second one connection may send, as `maxMessagesPerSecond`. @default 16 MiB */
  maxBytesPerSecond?: number
  /** Largest document a memory may grow to by client updates (encoded size); past it, ERROR memoryTooLarge. @default 64 MiB */
  maxMemoryBytes?: number
  /** Bytes waiting to be sent to one client past which it is closed with 4408 (slow consumer). @default 8 MiB */
  maxBufferedBytes?: number
  /**
   * Origins (`https://app.example.com`) whose pages may connect; others get HTTP 403 at the
   * upgrade. Requests without an Origin header (non-browser clients) pass. `['*']`: any.
   * @default any origin
   */
  allowedOrigins?: readonly string[]
  /** Serve Prometheus metrics at `/metrics`. @default true */
  metrics?: boolean
  /**
   * Serve the inspector at `/inspect`: memories loaded here and in Redis, their sizes,
   * connections, presence, rates, refusals and a live tail. Closed without a valid token
   * when the relay has a secret or an authorize hook (docs/DEVTOOLS.md). @default false
   */
  inspect?: boolean
}

/** A running relay. */
export interface RelayHandle {
  /** URL clients connect to, e.g. `ws://127.0.0.1:8787`. */
  readonly url: string
  readonly port: number
  /** The store memories live in. */
  readonly store: Store
  /** The relay itself, for inspection (loaded rooms, sessions). */
  readonly relay: Relay
  /** Its Prometheus metrics (also at `/metrics`), or null with `metrics: false`. */
  readonly metrics: RelayMetrics | null
  /** Persists and acknowledges what is queued, closes sockets with 1001, stops. */
  close(): Promise<void>
}

/**
 * Starts a relay. Rejects when Redis is unreachable, naming the URL (password masked).
 * @example
 * const relay = await createRelay({ port: 8787, redis: 'redis://127.0.0.1:6379' })
 * console.log(relay.url)
 */
export async function createRelay(options: RelayOptions = {}): Promise<RelayHandle> {
  const inspector = options.inspect ? new RelayInspector() : null
  const logger = inspector
    ? inspector.tapLogger(options.logger ?? consoleLogger)
    : (options.logger ?? consoleLogger)
  // Checked before anything starts, so that a bad option fails fast and names itself.
  const limits: RelayLimits = resolveLimits(options)
  const policy = new AccessPolicy({ secret: options.secret, authorize: options.authorize }, logger)
  const ownsStore = !options.store
  const prefix = options.prefix ?? 'memory:'
  const store: Store =
    options.store ??
    (await openStore(
      {
        redis: options.redis,
        redisCluster: options.redisCluster,
        prefix,
        keyspace: options.keyspace ?? 'on',
        ackReplicas: options.ackReplicas,
      },
      logger,
    ))
  let routes: ReturnType<typeof httpRoutes> | null = null
  let inspecting: RunningInspector | null = null
  const server = createServer((request, response) => {
    if (inspecting?.handle(request, response)) return
    routes ??= httpRoutes({
      health: relay.health,
      metrics: relay.metrics,
      counts: () => ({ memories: relay.rooms.size, connections: relay.sessions.size }),
    })
    routes(request, response)
  })
  const relay = new Relay(
    server,
    store,
    logger,
    {
      idleUnloadMs: options.idleUnloadMs ?? 30_000,
      reconcileIntervalMs: options.keyspace === 'off' ? (options.reconcileIntervalMs ?? 5_000) : 0,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxFrameBytes: options.maxFrameBytes ?? 2 * 1024 * 1024,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
      room: {
        maxUpdateBytes: options.maxUpdateBytes ?? 1024 * 1024,
        maxClockAdvance: options.maxClockAdvance ?? 10_000_000,
        compactAfter: options.compactAfter ?? 500,
        epochs: options.epochs ?? true,
        maxBatch: 256,
        coalesceMs: options.projectionCoalesceMs ?? 50,
        ingestLeaseMs: options.ingestLeaseMs ?? 10_000,
        maxAwarenessBytes: options.maxAwarenessBytes ?? DEFAULT_MAX_AWARENESS_BYTES,
        maxMemoryBytes: limits.maxMemoryBytes,
      },
      limits,
      policy,
      metrics: options.metrics ?? true,
    },
    ownsStore,
  )
  if (inspector) inspecting = startInspector(relay, inspector, { redis: options.redis, prefix, policy })
  if (policy.open) {
    logger.warn(
      'open relay: no secret and no authorize hook, so every client may read and write every memory; set REMEM_SECRET (or --secret) to require tokens',
    )
  }
  try {
    await relay.start()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await relay.close()
    await inspecting?.close()
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 8787}`
      throw new Error(`cannot listen on ${where}: another process uses that port; choose another (createRelay port, --port or PORT)`, {
        cause: error,
      })
    }
    // Redis lost after it answered at first: one line naming it, as when it never answered.
    throw store instanceof RedisStore ? store.explainLoss(error, 'starting') : error
  }
  if (inspecting) logger.info('inspector at /inspect', { url: `${relay.url.replace(/^ws/, 'http')}/inspect` })
  return {
    get url() {
      return relay.url
    },
    get port() {
      return relay.port
    },
    store,
    relay,
    metrics: relay.metrics,
    close: async () => {
      await relay.close()
      await inspecting?.close()
    },
  }
}
