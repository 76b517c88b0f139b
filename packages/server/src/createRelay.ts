import { createServer } from 'node:http'
import { type Logger, consoleLogger } from './logger.ts'
import { Relay } from './Relay.ts'
import { EmbeddedStore } from './store/EmbeddedStore.ts'
import { RedisStore } from './store/RedisStore.ts'
import type { KeyspaceMode } from './store/Projection.ts'
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
  /** A ready store; overrides `redis`. The caller closes it. */
  store?: Store
  /** Unload a memory this long after its last client left. @default 30000 */
  idleUnloadMs?: number
  /** Largest WebSocket frame accepted; larger ones close the socket with 1009. @default 2 MiB */
  maxFrameBytes?: number
  /** Largest update accepted; larger ones are refused. @default 1 MiB */
  maxUpdateBytes?: number
  /** Largest advance of one Yjs client's clock in one update. @default 10_000_000 */
  maxClockAdvance?: number
  /** Compact a memory once its log holds this many entries. @default 500 */
  compactAfter?: number
  /** Ping interval; a socket that misses one ping is dropped. @default 15000 */
  heartbeatMs?: number
  /** On `close()`, wait this long for queued updates to persist. @default 5000 */
  shutdownTimeoutMs?: number
  /** Where the relay logs. @default one line per event on stderr */
  logger?: Logger
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
  const logger = options.logger ?? consoleLogger
  const ownsStore = !options.store
  const prefix = options.prefix ?? 'memory:'
  const store: Store =
    options.store ??
    (options.redis !== undefined
      ? await RedisStore.connect({ redis: options.redis, prefix, keyspace: options.keyspace ?? 'on' })
      : new EmbeddedStore({ prefix }))
  const server = createServer((request, response) => {
    if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ ok: true, store: store.kind, memories: relay.rooms.size }))
      return
    }
    response.writeHead(426, { 'content-type': 'text/plain' })
    response.end('remem relay: connect with a WebSocket client (@remem/client)\n')
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
        maxBatch: 256,
        coalesceMs: options.projectionCoalesceMs ?? 50,
      },
    },
    ownsStore,
  )
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
    throw error
  }
  return {
    get url() {
      return relay.url
    },
    get port() {
      return relay.port
    },
    store,
    relay,
    close: () => relay.close(),
  }
}
