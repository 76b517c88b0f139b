/** Helpers for integration tests: relays, clients and waiting for convergence. */
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { docToJSON, type JsonObject } from '@remem/client/protocol'
import { createClient, type ClientOptions, type RememClient } from '@remem/client'
import { type RelayHandle, type RelayOptions, type Store, createRelay, silentLogger } from '@remem/server'

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

/**
 * Reads memory `name` straight from Redis (snapshot + log in one MULTI, as a cold relay
 * would), with plain commands, and returns it as JSON.
 */
export async function readMemoryFromRedis(
  url: string,
  name: string,
  prefix = 'memory:',
): Promise<{ json: JsonObject; logLength: number }> {
  const redis = new Redis(url)
  try {
    const base = `remem:{${prefix}${name}}`
    // One transaction: a compaction between two reads would hide what it moved into the snapshot.
    const replies = await redis.multi().getBuffer(`${base}:snapshot`).xrangeBuffer(`${base}:log`, '-', '+').exec()
    const failed = replies?.find(([error]) => error)
    if (!replies || failed) throw new Error(`reading memory ${name} from Redis failed: ${String(failed?.[0])}`)
    const snapshot = replies[0]![1] as Buffer | null
    const entries = replies[1]![1] as Array<[string, Buffer[]]>
    const doc = new Y.Doc()
    if (snapshot) {
      const bar = snapshot.indexOf(124) // '<uptoId>|<bytes>'
      Y.applyUpdate(doc, snapshot.subarray(bar + 1))
    }
    for (const [, fields] of entries) {
      const update = fields[1]
      if (update) Y.applyUpdate(doc, update)
    }
    return { json: docToJSON(doc), logLength: entries.length }
  } finally {
    redis.disconnect()
  }
}

/** A store that behaves like `inner` except for the methods given in `overrides`. */
export function wrapStore(inner: Store, overrides: Partial<Store>): Store {
  return {
    kind: inner.kind,
    projection: inner.projection,
    load: (name) => inner.load(name),
    append: (name, updates, relayId, epoch) => inner.append(name, updates, relayId, epoch),
    readSince: (name, afterId) => inner.readSince(name, afterId),
    compact: (name, snapshot, uptoId) => inner.compact(name, snapshot, uptoId),
    switchEpoch: (name, change) => inner.switchEpoch(name, change),
    endedVector: (name, epoch) => inner.endedVector(name, epoch),
    subscribe: (name, listener, onEpoch) => inner.subscribe(name, listener, onEpoch),
    onStatus: (listener) => inner.onStatus(listener),
    close: () => inner.close(),
    ...overrides,
  }
}

/** `inner`, except that the first broadcast it would deliver is lost; `dropped()` counts losses. */
export function dropFirstBroadcast(inner: Store): { store: Store; dropped: () => number } {
  let dropped = 0
  const store = wrapStore(inner, {
    subscribe: (name, listener) =>
      inner.subscribe(name, (message) => {
        if (dropped === 0) {
          dropped++
          return
        }
        listener(message)
      }),
  })
  return { store, dropped: () => dropped }
}
