/** Helpers for the hook tests: a real relay on a free port and real clients over `ws`. */
import { type ClientOptions, type RememClient, createClient } from '@remem/client'
import { type RelayHandle, createRelay, silentLogger } from '@remem/server'
import WebSocket from 'ws'

export { WebSocket }

/** A relay on a free port of 127.0.0.1 with the embedded store. */
export function startRelay(): Promise<RelayHandle> {
  return createRelay({ port: 0, host: '127.0.0.1', logger: silentLogger })
}

/** A Node client of `relay` (or of a URL's), with fast reconnects. */
export function connect(relay: { url: string }, options: Partial<ClientOptions> = {}): RememClient {
  return createClient({ url: relay.url, WebSocket, backoff: { minMs: 20, maxMs: 200 }, ...options })
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
