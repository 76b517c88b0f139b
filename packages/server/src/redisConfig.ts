import { readFileSync } from 'node:fs'
import type { RedisOptions } from 'ioredis'
import {
  type RedisConnectionOptions,
  type RedisTarget,
  describeRedisTarget,
  isUnixSocketUrl,
  maskRedisUrl,
  parseUnixSocketUrl,
} from './store/redisUrl.ts'

/**
 * What the relay is told about Redis (the `redis` option of `createRelay`): a URL, or
 * ioredis options that may add to a `url`.
 */
export type RedisConfig = RedisTarget

/** The environment variables {@link redisConfigFrom} reads. */
export const REDIS_ENV_VARS = [
  'REDIS_URL',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_DB',
  'REDIS_TLS',
  'REDIS_TLS_CA',
  'REDIS_TLS_INSECURE',
  'REDIS_CONNECT_TIMEOUT_MS',
  'REDIS_COMMAND_TIMEOUT_MS',
] as const

type RedisEnvVar = (typeof REDIS_ENV_VARS)[number]
type Env = Readonly<Record<string, string | undefined>>

/** Redis settings given as command-line flags; each wins over its environment variable. */
export interface RedisFlags {
  /** `--redis`, over `REDIS_URL`. */
  url?: string | undefined
  /** `--redis-connect-timeout-ms`, over `REDIS_CONNECT_TIMEOUT_MS`. */
  connectTimeoutMs?: string | undefined
  /** `--redis-command-timeout-ms`, over `REDIS_COMMAND_TIMEOUT_MS`. */
  commandTimeoutMs?: string | undefined
  /** `--redis-tls`, over `REDIS_TLS`. */
  tls?: boolean | undefined
  /** `--redis-tls-ca` (a file path), over `REDIS_TLS_CA`. */
  tlsCa?: string | undefined
  /** `--redis-tls-insecure`, over `REDIS_TLS_INSECURE`. */
  tlsInsecure?: boolean | undefined
}

const flagNames: Record<keyof RedisFlags, string> = {
  url: '--redis',
  connectTimeoutMs: '--redis-connect-timeout-ms',
  commandTimeoutMs: '--redis-command-timeout-ms',
  tls: '--redis-tls',
  tlsCa: '--redis-tls-ca',
  tlsInsecure: '--redis-tls-insecure',
}

/**
 * Turns Redis flags and environment variables into the `redis` option of `createRelay`.
 * Reads nothing but its inputs, and the CA file they name (through `readFile`).
 *
 * - The URL (`--redis`, else `REDIS_URL`) wins: `redis://`, `rediss://` (TLS) or a unix
 *   socket (`unix:///path/redis.sock?db=N`, user info or `password=` for the password).
 * - Otherwise `REDIS_HOST`, `REDIS_PORT`, `REDIS_USERNAME`, `REDIS_PASSWORD` and `REDIS_DB`
 *   make ioredis options (host `127.0.0.1`, port `6379` when unset); `REDIS_TLS=1` or a
 *   TLS option turns TLS on for them.
 * - Timeouts and TLS options (a CA file for a private or self-signed certificate, or no
 *   verification at all) add to either.
 *
 * Returns the URL itself when nothing adds to it, and `undefined` (the embedded store)
 * when no Redis is named. Empty variables count as unset, so `REDIS_URL= npm start` means
 * "no Redis".
 *
 * @throws Error naming the flag or variable that is wrong; URLs in messages have their
 *   password masked.
 * @example
 * redisConfigFrom({}, { REDIS_HOST: 'cache', REDIS_PASSWORD: 's3cret' })
 * // { host: 'cache', port: 6379, password: 's3cret' }
 * redisConfigFrom({ url: 'rediss://cache:6380' }, { REDIS_TLS_CA: '/etc/ca.pem' })
 * // { url: 'rediss://cache:6380', tls: { ca: '-----BEGIN CERTIFICATE-----…' } }
 */
export function redisConfigFrom(
  flags: RedisFlags,
  env: Env,
  readFile: (path: string) => string = readText,
): RedisConfig | undefined {
  const get = (name: RedisEnvVar): string | undefined => {
    const value = env[name]
    return value === undefined || value === '' ? undefined : value
  }
  const pick = <K extends keyof RedisFlags>(key: K, variable: RedisEnvVar) =>
    flags[key] !== undefined
      ? { value: flags[key], source: flagNames[key] }
      : { value: get(variable), source: variable }

  const url = pick('url', 'REDIS_URL')
  const connectTimeout = pick('connectTimeoutMs', 'REDIS_CONNECT_TIMEOUT_MS')
  const commandTimeout = pick('commandTimeoutMs', 'REDIS_COMMAND_TIMEOUT_MS')
  const ca = pick('tlsCa', 'REDIS_TLS_CA')
  const insecure =
    flags.tlsInsecure !== undefined
      ? { value: flags.tlsInsecure, source: flagNames.tlsInsecure }
      : {
          value: envBoolean(get('REDIS_TLS_INSECURE'), 'REDIS_TLS_INSECURE'),
          source: 'REDIS_TLS_INSECURE',
        }
  const tls =
    flags.tls !== undefined
      ? { value: flags.tls, source: flagNames.tls }
      : { value: envBoolean(get('REDIS_TLS'), 'REDIS_TLS'), source: 'REDIS_TLS' }

  let target: RedisConnectionOptions | undefined
  if (url.value !== undefined) {
    target = { url: checkUrl(url.value, url.source) }
  } else {
    target = optionsFromVariables(get)
  }

  if (target === undefined) {
    const given = (Object.keys(flags) as Array<keyof RedisFlags>).find(
      (key) => key !== 'url' && flags[key] !== undefined && flags[key] !== false,
    )
    if (given) {
      throw new Error(
        `${flagNames[given]} needs Redis: add --redis <url> or set REDIS_URL or REDIS_HOST`,
      )
    }
    return undefined
  }

  const extra: RedisOptions = {}
  if (connectTimeout.value !== undefined) {
    extra.connectTimeout = parseInteger(connectTimeout.source, connectTimeout.value, 1, 2 ** 31 - 1)
  }
  if (commandTimeout.value !== undefined) {
    extra.commandTimeout = parseInteger(commandTimeout.source, commandTimeout.value, 1, 2 ** 31 - 1)
  }

  const tlsOptions: { ca?: string; rejectUnauthorized?: boolean } = {}
  if (ca.value !== undefined) tlsOptions.ca = readCa(ca.value, ca.source, readFile)
  if (insecure.value === true) tlsOptions.rejectUnauthorized = false
  const tlsAsked = [tls, ca, insecure].find(
    (setting) => setting.value !== undefined && setting.value !== false,
  )
  if (tlsAsked) {
    if (target.url !== undefined && !/^rediss:/i.test(target.url)) {
      throw new Error(
        `${tlsAsked.source} asks for TLS, but ${url.source} is ${maskRedisUrl(target.url)}: ` +
          'use a rediss:// URL for Redis over TLS, or drop the TLS setting',
      )
    }
    extra.tls = tlsOptions
  }

  if (target.url !== undefined) {
    if (Object.keys(extra).length === 0) return target.url
    // `tls: {}` would add nothing to a rediss:// URL.
    if (extra.tls && Object.keys(extra.tls).length === 0) delete extra.tls
    return Object.keys(extra).length === 0 ? target.url : { url: target.url, ...extra }
  }
  return { ...target, ...extra }
}

/**
 * Reads the Redis connection from the environment alone: {@link redisConfigFrom} without
 * flags.
 * @example redisOptionsFromEnv({ REDIS_URL: 'redis://cache:6379' }) // 'redis://cache:6379'
 */
export function redisOptionsFromEnv(env: Env): RedisConfig | undefined {
  return redisConfigFrom({}, env)
}

/**
 * A printable form of a Redis connection with the password replaced by `***`.
 *
 * @example
 * describeRedis('redis://app:s3cret@cache:6379/2') // 'redis://app:***@cache:6379/2'
 * describeRedis({ host: 'cache', password: 'x' })   // 'redis://:***@cache:6379/0'
 */
export function describeRedis(redis: RedisConfig): string {
  return describeRedisTarget(redis)
}

function optionsFromVariables(
  get: (name: RedisEnvVar) => string | undefined,
): RedisOptions | undefined {
  const host = get('REDIS_HOST')
  const port = get('REDIS_PORT')
  const username = get('REDIS_USERNAME')
  const password = get('REDIS_PASSWORD')
  const db = get('REDIS_DB')
  if ([host, port, username, password, db].every((v) => v === undefined)) return undefined

  const options: RedisOptions = {
    host: host ?? '127.0.0.1',
    port: port === undefined ? 6379 : parseInteger('REDIS_PORT', port, 1, 65535),
  }
  if (username !== undefined) options.username = username
  if (password !== undefined) options.password = password
  if (db !== undefined) options.db = parseInteger('REDIS_DB', db, 0, Number.MAX_SAFE_INTEGER)
  return options
}

function checkUrl(url: string, source: string): string {
  if (isUnixSocketUrl(url)) {
    try {
      parseUnixSocketUrl(url)
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message}`, { cause: error })
    }
    return url
  }
  if (!/^rediss?:\/\//i.test(url)) {
    throw new Error(
      `${source} must be a redis://, rediss:// or unix:// URL, e.g. redis://user:pass@127.0.0.1:6379/0, ` +
        `got ${JSON.stringify(maskRedisUrl(url))}`,
    )
  }
  return url
}

function readCa(path: string, source: string, readFile: (path: string) => string): string {
  try {
    return readFile(path)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new Error(`${source} names a CA file that cannot be read: ${path} (${reason})`, {
      cause: error,
    })
  }
}

function envBoolean(raw: string | undefined, name: string): boolean | undefined {
  if (raw === undefined) return undefined
  const value = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(value)) return true
  if (['0', 'false', 'no', 'off'].includes(value)) return false
  throw new Error(`${name} must be 1 or 0 (true/false, yes/no, on/off), got ${JSON.stringify(raw)}`)
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

function readText(path: string): string {
  return readFileSync(path, 'utf8')
}
