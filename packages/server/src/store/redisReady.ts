/**
 * Waiting for an ioredis connection to be ready before it enters subscriber mode.
 *
 * ioredis writes SUBSCRIBE at once while a connection is still in its handshake (status
 * 'connect', before the INFO of its ready check): the connection is then in subscriber mode,
 * the ready check fails with "Connection in subscriber mode, only subscriber commands may be
 * used", and every queued command is rejected with it. Subscribing only once the connection
 * is 'ready' rules that out; ioredis resubscribes by itself after a reconnect (whose
 * promises `handleResubscriptions` marks as handled).
 */
import type { Redis } from 'ioredis'

/** The wait under way per connection: callers share it, so a connection gets one set of listeners. */
const waiting = new WeakMap<Redis, Promise<void>>()

/**
 * Resolves once `connection` is ready, connecting it if it waits (lazyConnect). Rejects
 * when the attempt under way fails (the connection closes or errors first), so that callers
 * fail as fast as a command would while Redis is down. Any number of callers (one per
 * memory) share one wait and one set of listeners.
 */
export function whenReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve()
  if (connection.status === 'end') return Promise.reject(new Error('Connection is closed.'))
  const shared = waiting.get(connection)
  if (shared) return shared
  let settled = false
  const wait = new Promise<void>((resolve, reject) => {
    let lastError: Error | null = null
    const off = (): void => {
      settled = true
      waiting.delete(connection)
      connection.off('ready', onReady)
      connection.off('error', onError)
      connection.off('close', onClose)
      connection.off('end', onClose)
    }
    const onReady = (): void => {
      off()
      resolve()
    }
    const onError = (error: Error): void => {
      lastError = error
    }
    const onClose = (): void => {
      off()
      reject(lastError ?? new Error('the Redis connection closed before it was ready'))
    }
    connection.on('ready', onReady)
    connection.on('error', onError)
    connection.on('close', onClose)
    // Given up (disconnect(), or no more retries): no 'close' may follow.
    connection.on('end', onClose)
    if (connection.status === 'wait') connection.connect().catch(() => undefined)
  })
  if (!settled) waiting.set(connection, wait)
  return wait
}

const RESUBSCRIBING = ['subscribe', 'psubscribe', 'ssubscribe', 'select'] as const

/**
 * Marks the promises of `connection`'s SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and SELECT as
 * handled, and returns it. After a reconnect ioredis sends them by itself (autoResubscribe)
 * and drops their promises; when the connection drops again before Redis answers, they
 * reject ("Reached the max retries per request limit", "Connection is closed") with nobody
 * listening, and an unhandled rejection ends a Node 20 process: the relay. Callers that
 * await these commands still see their rejections.
 */
export function handleResubscriptions<C extends object>(connection: C): C {
  const methods = connection as unknown as Record<string, unknown>
  for (const name of RESUBSCRIBING) {
    const original = methods[name]
    if (typeof original !== 'function') continue
    methods[name] = function (this: unknown, ...args: unknown[]): unknown {
      const result: unknown = (original as (...a: unknown[]) => unknown).apply(this, args)
      if (result instanceof Promise) result.catch(() => undefined)
      return result
    }
  }
  return connection
}
