/** Helpers for integration tests: relays, clients and waiting for convergence. */
import WebSocket from 'ws'
import { createClient, type ClientOptions, type RememClient } from '@remem/client'
import { type RelayHandle, type RelayOptions, createRelay, silentLogger } from '@remem/server'

/** Starts a relay on a free port of 127.0.0.1, quiet unless REMEM_LOG is set. */
export function startRelay(options: RelayOptions = {}): Promise<RelayHandle> {
  return createRelay({
    port: 0,
    host: '127.0.0.1',
    idleUnloadMs: 200,
    ...(process.env.REMEM_LOG ? {} : { logger: silentLogger }),
    ...options,
  })
}

/** A Node client (ws as WebSocket, fast reconnects) collecting the errors it reports. */
export function connect(url: string, options: Partial<ClientOptions> = {}): RememClient & { errors: Error[] } {
  const errors: Error[] = []
  const client = createClient({
    url,
    WebSocket,
    backoff: { minMs: 20, maxMs: 200 },
    onError: (error) => errors.push(error),
    ...options,
  })
  return Object.assign(client, { errors })
}

/** Polls `check` until it returns without throwing (or true), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const result = await check()
      if (result !== false) return result
      lastError = new Error('condition stayed false')
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw lastError
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
