import { parseArgs } from 'node:util'
import { type TokenCommandOptions, parseTokenArgs } from './auth/tokenArgs.ts'
import { MIN_SECRET_LENGTH } from './auth/token.ts'
import { type RedisConfig, redisConfigFrom } from './redisConfig.ts'
import { redisClusterConfigFrom } from './redisClusterConfig.ts'
import type { RedisClusterConfig } from './store/clusterNodes.ts'
import type { KeyspaceMode } from './store/Projection.ts'

/** What `remem-relay` was asked to do. */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: CliRelayOptions }
  | { kind: 'token'; options: TokenCommandOptions }
  | { kind: 'tokenHelp' }

/** Levels of `--log-level` (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The relay options the CLI passes to `createRelay`. */
export interface CliRelayOptions {
  port: number
  host: string
  /** Absent: the embedded store. */
  redis?: RedisConfig
  /** A Redis Cluster instead of `redis`. */
  redisCluster?: RedisClusterConfig
  /** Replicas that must hold an update before it is acked. Absent: 0. */
  ackReplicas?: number
  prefix: string
  idleUnloadMs?: number
  /** Absent: createRelay's default, 'on'. */
  keyspace?: KeyspaceMode
  reconcileIntervalMs?: number
  /** How long a claim on an external write lasts. Absent: createRelay's default, 10000. */
  ingestLeaseMs?: number
  /** Absent: an open relay. */
  secret?: string
  /** Absent: any origin. */
  allowedOrigins?: string[]
  /** Absent: 'info'. */
  logLevel?: LogLevel
  /** Serve the inspector at /inspect. Absent: off. */
  inspect?: boolean
  /** Whether to start new epochs when documents outgrow their content. Absent: on. */
  epochs?: boolean
  /** Open connections per client address (0: no limit). Absent: createRelay's default, 256. */
  maxConnectionsPerIp?: number
  /** Frames per second one connection may send. Absent: createRelay's default, 5000. */
  maxMessagesPerSecond?: number
}

/** A mistake on the command line or in the environment; the message says what to change. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

export const DEFAULT_PORT = 8787
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PREFIX = 'memory:'

const optionSpec = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'ack-replicas': { type: 'string' },
  prefix: { type: 'string' },
  'redis-connect-timeout-ms': { type: 'string' },
  'redis-command-timeout-ms': { type: 'string' },
  'redis-tls': { type: 'boolean' },
  'redis-tls-ca': { type: 'string' },
  'redis-tls-insecure': { type: 'boolean' },
  keyspace: { type: 'string' },
  'reconcile-interval-ms': { type: 'string' },
  'ingest-lease-ms': { type: 'string' },
  'idle-unload-ms': { type: 'string' },
  secret: { type: 'string' },
  'allowed-origins': { type: 'string' },
  'log-level': { type: 'string' },
  inspect: { type: 'boolean' },
  epochs: { type: 'boolean' },
  'no-epochs': { type: 'boolean' },
  'max-connections-per-ip': { type: 'string' },
  'max-messages-per-second': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** Usage text printed by `remem-relay --help`; lists every flag and environment variable. */
export const USAGE = `Usage: remem-relay [options]
       remem-relay token --memory <name> [--access read|write] [--expires 1h]

Runs the remem relay: a WebSocket server that syncs browser and Node clients through Redis.
Without Redis settings it keeps memories in an embedded in-process store (lost on exit).
A flag wins over its environment variable.

Relay:
  -p, --port <n>                  port to listen on; 0 picks a free one
                                  env PORT, default ${DEFAULT_PORT}
      --host <addr>               address to listen on (0.0.0.0 for all)
                                  env HOST, default ${DEFAULT_HOST}
      --prefix <p>                key prefix of projected values in Redis
                                  env REDIS_PREFIX, default ${DEFAULT_PREFIX}
      --idle-unload-ms <n>        unload a memory this long after its last client leaves
                                  env REMEM_IDLE_UNLOAD_MS, default 30000
      --log-level <level>         fatal, error, warn, info, debug, trace or silent; logs are
                                  JSON lines (pino) on stderr
                                  env LOG_LEVEL, default info
      --inspect                   serve the inspector at /inspect (memories, sizes,
                                  connections, refusals, a live tail); with --secret it
                                  needs a token of this relay
                                  env REMEM_INSPECT=1, default off
      --no-epochs                 never rebuild a memory as a fresh document (a new epoch)
                                  when it outgrows its content: compaction only, and
                                  documents keep every tombstone (--epochs: the default)
                                  env REMEM_EPOCHS=0, default on
      --max-connections-per-ip <n>
                                  open connections per client address; more get HTTP 429
                                  (raise it to load-test from one machine; 0: no limit)
                                  env REMEM_MAX_CONNECTIONS_PER_IP, default 256
      --max-messages-per-second <n>
                                  frames per second one connection may send (bursts of
                                  twice as many pass); past it the relay reads it more slowly
                                  env REMEM_MAX_MESSAGES_PER_SECOND, default 5000
  -h, --help                      print this help and exit
  -v, --version                   print the version and exit

Redis connection:
      --redis <url>               redis://user:pass@host:6379/0, rediss://… for TLS, or a unix
                                  socket: unix:///path/redis.sock?db=0 (password as user info,
                                  unix://user:pass@/path/redis.sock, or ?password=)
                                  env REDIS_URL, default: the embedded store
  Without a URL, from separate variables (any one of them selects Redis):
      REDIS_HOST (default 127.0.0.1), REDIS_PORT (default 6379), REDIS_USERNAME,
      REDIS_PASSWORD, REDIS_DB (default 0)
      --redis-tls                 use TLS with the separate variables (with a URL: rediss://)
                                  env REDIS_TLS=1
      --redis-tls-ca <file>       PEM file of the CA that signed the server's certificate, for
                                  a private or self-signed one; implies TLS
                                  env REDIS_TLS_CA
      --redis-tls-insecure        do not verify the server's certificate (tests only); implies TLS
                                  env REDIS_TLS_INSECURE=1
      --redis-cluster <nodes>     a Redis Cluster instead: comma-separated host:port of some of
                                  its nodes (the others are discovered); REDIS_USERNAME,
                                  REDIS_PASSWORD, the TLS and timeout settings apply to every node
                                  env REDIS_CLUSTER_NODES
      --ack-replicas <n>          acknowledge an update only once n replicas hold it (WAIT), so
                                  acks survive a failover; costs a replication round trip
                                  env REMEM_ACK_REPLICAS, default 0
      --redis-connect-timeout-ms <n>
                                  give up a connection attempt after n ms
                                  env REDIS_CONNECT_TIMEOUT_MS, default 5000
      --redis-command-timeout-ms <n>
                                  fail a command that has no answer after n ms
                                  env REDIS_COMMAND_TIMEOUT_MS, default: no limit

Access:
      --secret <s>                require tokens signed with this secret (at least ${MIN_SECRET_LENGTH}
                                  characters); make them with \`remem-relay token\` or
                                  createToken() from @remem/server. Without it the relay is open:
                                  every client reads and writes every memory
                                  env REMEM_SECRET (prefer it: arguments show in ps)
      --allowed-origins <list>    comma-separated origins whose pages may connect
                                  (https://app.example.com); others get 403
                                  env REMEM_ALLOWED_ORIGINS, default any

External writes to projected keys:
      --keyspace on|off           on: follow keyspace notifications (the relay runs CONFIG SET
                                  notify-keyspace-events, or says what to run where CONFIG is
                                  disabled); off: find external writes by reconciling loaded
                                  memories every --reconcile-interval-ms
                                  env REMEM_KEYSPACE, default on
      --reconcile-interval-ms <n> how often to reconcile with --keyspace off
                                  env REMEM_RECONCILE_INTERVAL_MS, default 5000
      --ingest-lease-ms <n>       how long a relay's claim on an external write lasts: when
                                  it stops before persisting the write, another relay holding
                                  the memory ingests it after this long
                                  env REMEM_INGEST_LEASE_MS, default 10000

Examples:
  remem-relay
  remem-relay --port 8787 --redis redis://127.0.0.1:6379 --prefix memory:
  REDIS_HOST=cache REDIS_PASSWORD=s3cret remem-relay --host 0.0.0.0
  REDIS_URL=rediss://app:s3cret@cache:6380 REDIS_TLS_CA=/etc/redis/ca.pem remem-relay
  remem-relay --redis unix:///run/redis/redis.sock --keyspace off
  REMEM_SECRET=$(openssl rand -base64 32) remem-relay --allowed-origins https://app.example.com

Run remem-relay token --help for the token command.
`

type Env = Readonly<Record<string, string | undefined>>

/** Integer flags read by `intOption` (flag first, then its variable). */
type IntegerFlag =
  | 'ack-replicas'
  | 'reconcile-interval-ms'
  | 'ingest-lease-ms'
  | 'idle-unload-ms'
  | 'max-connections-per-ip'
  | 'max-messages-per-second'

/** Largest value of most integer options (for milliseconds, the longest a timer takes). */
const MAX_INT32 = 2 ** 31 - 1

/**
 * Parses `remem-relay`'s arguments (without `node` and the script) and environment.
 * Reads nothing but its inputs, and the TLS CA file they name (through `readFile`).
 *
 * @throws CliUsageError naming the flag or variable that is wrong.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: Env,
  readFile?: (path: string) => string,
): CliCommand {
  if (argv[0] === 'token') {
    try {
      const parsed = parseTokenArgs(argv.slice(1), env)
      return parsed === 'help' ? { kind: 'tokenHelp' } : { kind: 'token', options: parsed }
    } catch (error) {
      throw new CliUsageError(
        `token: ${error instanceof Error ? error.message : String(error)}; run remem-relay token --help`,
      )
    }
  }
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (error) {
    throw new CliUsageError(describeParseError(error))
  }
  if (values.help === true) return { kind: 'help' }
  if (values.version === true) return { kind: 'version' }

  const fromEnv = (name: string): string | undefined => {
    const value = env[name]
    return value === undefined || value === '' ? undefined : value
  }

  /** The flag's value, else the variable's, checked; undefined when neither is set. */
  const intOption = (
    flag: IntegerFlag,
    variable: string,
    min: number,
    max: number,
  ): number | undefined => {
    const fromFlag = values[flag]
    if (fromFlag !== undefined) return checkInteger(fromFlag, `--${flag}`, min, max)
    const fromVariable = fromEnv(variable)
    return fromVariable === undefined ? undefined : checkInteger(fromVariable, variable, min, max)
  }

  const options: CliRelayOptions = {
    port: integer(values.port, '--port', fromEnv('PORT'), 'PORT', DEFAULT_PORT, 0, 65535),
    host: values.host ?? fromEnv('HOST') ?? DEFAULT_HOST,
    prefix: prefix(values.prefix, fromEnv('REDIS_PREFIX')),
  }
  const level = values['log-level'] ?? fromEnv('LOG_LEVEL')
  if (level !== undefined) options.logLevel = logLevel(level, values['log-level'] !== undefined)
  const secret = values.secret ?? fromEnv('REMEM_SECRET')
  if (secret !== undefined) {
    if (secret.length < MIN_SECRET_LENGTH) {
      const source = values.secret !== undefined ? '--secret' : 'REMEM_SECRET'
      throw new CliUsageError(
        `${source} must be at least ${MIN_SECRET_LENGTH} characters; generate one with \`openssl rand -base64 32\``,
      )
    }
    options.secret = secret
  }
  if (values.inspect === true || ['1', 'true', 'on'].includes(fromEnv('REMEM_INSPECT') ?? '')) {
    options.inspect = true
  }
  const epochsFromEnv = fromEnv('REMEM_EPOCHS')
  if (values['no-epochs'] === true) options.epochs = false
  else if (values.epochs === true) options.epochs = true
  else if (epochsFromEnv !== undefined) options.epochs = !['0', 'false', 'off'].includes(epochsFromEnv)
  const origins = values['allowed-origins'] ?? fromEnv('REMEM_ALLOWED_ORIGINS')
  if (origins !== undefined) {
    options.allowedOrigins = origins.split(',').map((origin) => origin.trim()).filter(Boolean)
  }
  if (options.host === '') throw new CliUsageError('--host must not be empty')

  let redis: RedisConfig | undefined
  if (values.redis === '') {
    throw new CliUsageError('--redis needs a URL, e.g. redis://127.0.0.1:6379')
  }
  try {
    const flags = {
      url: values.redis,
      connectTimeoutMs: values['redis-connect-timeout-ms'],
      commandTimeoutMs: values['redis-command-timeout-ms'],
      tls: values['redis-tls'],
      tlsCa: values['redis-tls-ca'],
      tlsInsecure: values['redis-tls-insecure'],
    }
    const cluster = redisClusterConfigFrom({ ...flags, nodes: values['redis-cluster'] }, env, readFile)
    if (cluster !== undefined) options.redisCluster = cluster
    else redis = redisConfigFrom(flags, env, readFile)
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  if (redis !== undefined) options.redis = redis
  const ackReplicas = intOption('ack-replicas', 'REMEM_ACK_REPLICAS', 0, 100)
  if (ackReplicas !== undefined) options.ackReplicas = ackReplicas

  const keyspace = values.keyspace ?? fromEnv('REMEM_KEYSPACE')
  if (keyspace !== undefined) {
    if (keyspace !== 'on' && keyspace !== 'off') {
      const source = values.keyspace !== undefined ? '--keyspace' : 'REMEM_KEYSPACE'
      throw new CliUsageError(`${source} must be on or off, got ${JSON.stringify(keyspace)}`)
    }
    options.keyspace = keyspace
  }
  const reconcile = intOption('reconcile-interval-ms', 'REMEM_RECONCILE_INTERVAL_MS', 1, MAX_INT32)
  if (reconcile !== undefined) options.reconcileIntervalMs = reconcile
  const lease = intOption('ingest-lease-ms', 'REMEM_INGEST_LEASE_MS', 1, MAX_INT32)
  if (lease !== undefined) options.ingestLeaseMs = lease
  const idle = intOption('idle-unload-ms', 'REMEM_IDLE_UNLOAD_MS', 0, Number.MAX_SAFE_INTEGER)
  if (idle !== undefined) options.idleUnloadMs = idle
  const perIp = intOption('max-connections-per-ip', 'REMEM_MAX_CONNECTIONS_PER_IP', 0, MAX_INT32)
  if (perIp !== undefined) options.maxConnectionsPerIp = perIp
  const frames = intOption('max-messages-per-second', 'REMEM_MAX_MESSAGES_PER_SECOND', 1, MAX_INT32)
  if (frames !== undefined) options.maxMessagesPerSecond = frames
  return { kind: 'run', options }
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: optionSpec, strict: true, allowPositionals: false })
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  const hint = 'run remem-relay --help for the list of options'
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = /'([^']+)'/.exec(message)?.[1] ?? message
    return `unknown option ${name}; ${hint}`
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const name = /'([^']+)'/.exec(message)?.[1] ?? message
    return `unexpected argument ${name}; options take the form --name value; ${hint}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // e.g. "Option '-p, --port <value>' argument missing"
    const name = /--[\w-]+/.exec(message)?.[0] ?? message
    if (message.includes('does not take an argument')) {
      return `${name} takes no value (give it alone to turn it on); ${hint}`
    }
    return `${name} needs a value; ${hint}`
  }
  return `${message}; ${hint}`
}

function integer(
  flag: string | undefined,
  flagName: string,
  envValue: string | undefined,
  envName: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (flag !== undefined) return checkInteger(flag, flagName, min, max)
  if (envValue !== undefined) return checkInteger(envValue, envName, min, max)
  return fallback
}

function checkInteger(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CliUsageError(
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    )
  }
  return value
}

function logLevel(value: string, fromFlag: boolean): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    const source = fromFlag ? '--log-level' : 'LOG_LEVEL'
    throw new CliUsageError(`${source} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`)
  }
  return value as LogLevel
}

function prefix(flag: string | undefined, envValue: string | undefined): string {
  const value = flag ?? envValue ?? DEFAULT_PREFIX
  const name = flag !== undefined ? '--prefix' : 'REDIS_PREFIX'
  // The prefix goes into keyspace patterns and hash tags (`remem:{P{name}}:log`).
  if (value === '' || /[\s*?[\]{}\\]/.test(value)) {
    throw new CliUsageError(
      `${name} must be non-empty without spaces, glob characters or braces, got ${JSON.stringify(value)}`,
    )
  }
  return value
}
