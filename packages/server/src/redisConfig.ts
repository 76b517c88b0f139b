import type { RedisOptions } from 'ioredis'
import { describeRedisOptions, maskRedisUrl } from './store/redisUrl.ts'

/** What the relay is told about Redis: a URL, an ioredis options object, or nothing (embedded store). */
export type RedisConfig = string | RedisOptions

/** The environment variables {@link redisOptionsFromEnv} reads. */
export const REDIS_ENV_VARS = [
  'REDIS_URL',
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_DB',
] as const

type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads the Redis connection from the environment.
 *
 * `REDIS_URL` wins and is returned as is (ioredis parses `redis://` and `rediss://`).
 * Otherwise, if any of `REDIS_HOST`, `REDIS_PORT`, `REDIS_USERNAME`, `REDIS_PASSWORD` or
 * `REDIS_DB` is set, they are combined into ioredis options (host `127.0.0.1` and port
 * `6379` when unset). With none of them set it returns `undefined`: the relay runs on
 * its embedded store.
 *
 * Empty strings count as unset, so `REDIS_URL= npm start` means "no Redis".
 *
 * @throws Error naming the variable when `REDIS_PORT` or `REDIS_DB` is not a valid number.
 * @example
 * redisOptionsFromEnv({ REDIS_HOST: 'cache', REDIS_PASSWORD: 's3cret' })
 * // { host: 'cache', port: 6379, password: 's3cret' }
 */
export function redisOptionsFromEnv(env: Env): RedisConfig | undefined {
  const get = (name: (typeof REDIS_ENV_VARS)[number]): string | undefined => {
    const value = env[name]
    return value === undefined || value === '' ? undefined : value
  }
  const url = get('REDIS_URL')
  if (url !== undefined) return url

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

/**
 * A printable form of a Redis connection with the password replaced by `***`.
 *
 * @example
 * describeRedis('redis://app:s3cret@cache:6379/2') // 'redis://app:***@cache:6379/2'
 * describeRedis({ host: 'cache', password: 'x' })   // 'redis://:***@cache:6379/0'
 */
export function describeRedis(redis: RedisConfig): string {
  return typeof redis === 'string' ? maskRedisUrl(redis) : describeRedisOptions(redis)
}

function parseInteger(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}
