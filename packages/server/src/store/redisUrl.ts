import type { RedisOptions } from 'ioredis'

/**
 * ioredis options, optionally with a `url` that gives host, port, credentials, db and
 * TLS (`rediss://`). The other fields add to what the URL says, e.g. a CA for a
 * self-signed server or timeouts; where both say the same thing, the URL wins.
 * @example { url: 'rediss://cache:6380/0', tls: { ca: readFileSync('ca.pem', 'utf8') }, commandTimeout: 2000 }
 */
export type RedisConnectionOptions = RedisOptions & {
  /** `redis://`, `rediss://` (TLS), or a unix socket: `unix:///path/redis.sock?db=1`. */
  url?: string
}

/** Where Redis is: a URL or {@link RedisConnectionOptions}. */
export type RedisTarget = string | RedisConnectionOptions

/**
 * Hides the password in a Redis URL so that it can go into logs and error messages.
 *
 * @example
 * maskRedisUrl('redis://u:secret@127.0.0.1:6379/0') // 'redis://u:***@127.0.0.1:6379/0'
 */
export function maskRedisUrl(url: string): string {
  return url
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/|\/\/)?([^@/?#]*)@/, (_match, scheme, userinfo) => {
      const colon = (userinfo as string).indexOf(':')
      const user = colon === -1 ? (userinfo as string) : (userinfo as string).slice(0, colon)
      return `${(scheme as string | undefined) ?? ''}${colon === -1 ? user : `${user}:***`}@`
    })
    .replace(/([?&]password=)[^&#]*/gi, '$1***')
}

/** A URL naming where `options` connect to, password masked, for messages. */
export function describeRedisOptions(options: RedisConnectionOptions): string {
  if (options.url !== undefined) return maskRedisUrl(options.url)
  const auth = options.password
    ? `${options.username ?? ''}:***@`
    : options.username
      ? `${options.username}@`
      : ''
  if (options.path !== undefined) {
    return `unix://${auth}${options.path}${options.db ? `?db=${options.db}` : ''}`
  }
  const scheme = options.tls ? 'rediss' : 'redis'
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 6379
  return `${scheme}://${auth}${host}:${port}/${options.db ?? 0}`
}

/** A printable form of any Redis target, password masked. */
export function describeRedisTarget(target: RedisTarget): string {
  return typeof target === 'string' ? maskRedisUrl(target) : describeRedisOptions(target)
}

const unixUrl = /^(?:redis\+)?unix:(?:\/\/)?(?:([^@/?#]*)@)?([^?#]*)(?:\?([^#]*))?$/i

/** Whether `url` names a unix socket (`unix:` or `redis+unix:`). */
export function isUnixSocketUrl(url: string): boolean {
  return /^(?:redis\+)?unix:/i.test(url)
}

/**
 * Reads a unix socket URL into ioredis options, as redis-py spells them:
 * `unix:///run/redis.sock`, `unix:///run/redis.sock?db=2&password=…`,
 * `unix://user:password@/run/redis.sock`; `redis+unix://` is accepted too.
 *
 * @throws Error naming what is wrong (the password masked) when the URL is malformed.
 * @example parseUnixSocketUrl('unix:///run/redis.sock?db=2') // { path: '/run/redis.sock', db: 2 }
 */
export function parseUnixSocketUrl(url: string): RedisOptions {
  const match = unixUrl.exec(url)
  const path = decode(match?.[2] ?? '')
  if (!match || !path.startsWith('/')) {
    throw new Error(
      `a unix socket URL needs an absolute path, e.g. unix:///run/redis/redis.sock, got ${maskRedisUrl(url)}`,
    )
  }
  const options: RedisOptions = { path }
  const userinfo = match[1]
  if (userinfo) {
    const colon = userinfo.indexOf(':')
    const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon))
    if (user) options.username = user
    if (colon !== -1) options.password = decode(userinfo.slice(colon + 1))
  }
  for (const [key, value] of new URLSearchParams(match[3] ?? '')) {
    switch (key) {
      case 'db':
        if (!/^\d+$/.test(value)) {
          throw new Error(
            `db in ${maskRedisUrl(url)} must be a number, got ${JSON.stringify(value)}`,
          )
        }
        options.db = Number(value)
        break
      case 'password':
        options.password = value
        break
      case 'username':
        options.username = value
        break
      default:
        throw new Error(
          `unknown parameter ${JSON.stringify(key)} in ${maskRedisUrl(url)}; a unix socket URL takes db, username and password`,
        )
    }
  }
  return options
}

/**
 * How to construct ioredis for `target`: the URL it parses itself (`redis://`,
 * `rediss://`) and the options that add to it. Unix socket URLs, which ioredis does not
 * read, become options.
 */
export function ioredisArguments(target: RedisTarget): { url?: string; options: RedisOptions } {
  const { url, ...options } = typeof target === 'string' ? { url: target } : target
  if (url === undefined) return { options }
  // The URL wins over the other options, as it does in `new Redis(url, options)`.
  if (isUnixSocketUrl(url)) return { options: { ...options, ...parseUnixSocketUrl(url) } }
  return { url, options }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
