import { parseArgs } from 'node:util'
import { type RedisConfig, redisOptionsFromEnv } from './redisConfig.ts'

/** What `remem-relay` was asked to do. */
export type CliCommand =
  { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliRelayOptions }

/** The relay options the CLI passes to `createRelay`. */
export interface CliRelayOptions {
  port: number
  host: string
  /** Absent: the embedded store. */
  redis?: RedisConfig
  prefix: string
  idleUnloadMs?: number
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
  prefix: { type: 'string' },
  'idle-unload-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** Usage text printed by `remem-relay --help`; lists every flag and environment variable. */
export const USAGE = `Usage: remem-relay [options]

Runs the remem relay: a WebSocket server that syncs browser and Node clients through Redis.
Without Redis settings it keeps memories in an embedded in-process store (lost on exit).

Options (a flag wins over its environment variable):
  -p, --port <n>            port to listen on; 0 picks a free one      env PORT        default ${DEFAULT_PORT}
      --host <addr>         address to listen on (0.0.0.0 for all)    env HOST        default ${DEFAULT_HOST}
      --redis <url>         Redis URL, e.g. redis://user:pass@host:6379/0 or rediss://…
                                                                      env REDIS_URL   default: embedded store
      --prefix <p>          key prefix of projected values in Redis   env REDIS_PREFIX default ${DEFAULT_PREFIX}
      --idle-unload-ms <n>  unload a memory this long after its last client leaves
                                                                      env REMEM_IDLE_UNLOAD_MS
  -h, --help                print this help and exit
  -v, --version             print the version and exit

Redis from separate variables (used when neither --redis nor REDIS_URL is set):
  REDIS_HOST (default 127.0.0.1), REDIS_PORT (default 6379), REDIS_USERNAME, REDIS_PASSWORD, REDIS_DB

Examples:
  remem-relay
  remem-relay --port 8787 --redis redis://127.0.0.1:6379 --prefix memory:
  REDIS_HOST=cache REDIS_PASSWORD=s3cret remem-relay --host 0.0.0.0
`

type Env = Readonly<Record<string, string | undefined>>

/**
 * Parses `remem-relay`'s arguments (without `node` and the script) and environment.
 * Pure: reads nothing but its inputs.
 *
 * @throws CliUsageError naming the flag or variable that is wrong.
 */
export function parseCliArgs(argv: readonly string[], env: Env): CliCommand {
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

  const options: CliRelayOptions = {
    port: integer(values.port, '--port', fromEnv('PORT'), 'PORT', DEFAULT_PORT, 0, 65535),
    host: values.host ?? fromEnv('HOST') ?? DEFAULT_HOST,
    prefix: prefix(values.prefix, fromEnv('REDIS_PREFIX')),
  }
  if (options.host === '') throw new CliUsageError('--host must not be empty')

  let redis: RedisConfig | undefined
  if (values.redis !== undefined) {
    if (values.redis === '')
      throw new CliUsageError('--redis needs a URL, e.g. redis://127.0.0.1:6379')
    redis = values.redis
  } else {
    try {
      redis = redisOptionsFromEnv(env)
    } catch (error) {
      throw new CliUsageError(error instanceof Error ? error.message : String(error))
    }
  }
  if (redis !== undefined) options.redis = redis

  const idle = values['idle-unload-ms'] ?? fromEnv('REMEM_IDLE_UNLOAD_MS')
  if (idle !== undefined) {
    const source =
      values['idle-unload-ms'] !== undefined ? '--idle-unload-ms' : 'REMEM_IDLE_UNLOAD_MS'
    options.idleUnloadMs = checkInteger(idle, source, 0, Number.MAX_SAFE_INTEGER)
  }
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
