import type { RedisOptions } from 'ioredis'

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
export function describeRedisOptions(options: RedisOptions): string {
  if (options.path !== undefined) return `unix:${options.path}`
  const scheme = options.tls ? 'rediss' : 'redis'
  const auth = options.password
    ? `${options.username ?? ''}:***@`
    : options.username
      ? `${options.username}@`
      : ''
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 6379
  return `${scheme}://${auth}${host}:${port}/${options.db ?? 0}`
}
