/**
 * After the faults: wait (bounded) until every copy agrees, then collect them all. The
 * copies are the surviving writers, a fresh client on each relay, and the document decoded
 * from Redis; the projection keys are read too.
 */
import WebSocket from 'ws'
import { type RememClient, createClient } from '@remem/client'
import type { Json, JsonObject } from '@remem/client/protocol'
import type { Copy } from './check.ts'
import { canonical } from './ops.ts'
import { type WriterProcess, sleep } from './processes.ts'
import { readProjection, readStoredDoc } from './redisState.ts'
import { connectRedis } from './redisTarget.ts'

/** Everything compared after settling. */
export interface Collected {
  /** The documents decoded from Redis. */
  stored: Copy
  copies: Copy[]
  projections: Record<string, Record<string, Json>>
  /** Memories whose stored snapshot + log leave updates waiting for missing ones. */
  storedPending: string[]
}

/** A client that only reads: one per relay, opened after the faults. */
export class Observer {
  private readonly client: RememClient

  constructor(
    readonly name: string,
    url: string,
    private readonly memories: string[],
  ) {
    this.client = createClient({ url, WebSocket, storage: 'memory', onError: () => undefined })
    for (const memory of memories) this.client.memory(memory)
  }

  copy(): Copy {
    const memories: Record<string, JsonObject> = {}
    const pending: Record<string, number> = {}
    for (const name of this.memories) {
      const memory = this.client.memory(name)
      // A copy that never came online has shown nothing: report it as missing.
      if (memory.status.connection === 'online') memories[name] = memory.toJSON()
      pending[name] = memory.status.pending
    }
    return { name: this.name, memories, pending }
  }

  close(): Promise<void> {
    return this.client.close()
  }
}

/** Reads every copy once. */
export async function collect(
  redisUrl: string,
  prefix: string,
  memories: string[],
  writers: WriterProcess[],
  observers: Observer[],
): Promise<Collected> {
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  redis.on('error', () => undefined)
  try {
    const stored: Copy = { name: 'Redis log', memories: {} }
    const projections: Record<string, Record<string, Json>> = {}
    const storedPending: string[] = []
    for (const name of memories) {
      const doc = await readStoredDoc(redis, prefix, name)
      stored.memories[name] = doc.json
      if (doc.pending) storedPending.push(name)
      projections[name] = await readProjection(redis, prefix, name)
    }
    const copies: Copy[] = []
    for (const writer of writers.filter((w) => w.alive)) {
      const state = await writer.request('state', 5000)
      if (!state) {
        copies.push({ name: `writer ${writer.id} (no answer)`, memories: {} })
        continue
      }
      copies.push({
        name: `writer ${writer.id}`,
        memories: state.json as Record<string, JsonObject>,
        pending: state.pending,
      })
    }
    for (const observer of observers) copies.push(observer.copy())
    return { stored, copies, projections, storedPending }
  } finally {
    redis.disconnect()
  }
}

/** Whether everything agrees: copies equal the stored documents, nothing pending, projections match. */
export function agreed(collected: Collected): boolean {
  const { stored, copies, projections, storedPending } = collected
  if (storedPending.length > 0) return false
  for (const [name, doc] of Object.entries(stored.memories)) {
    const expected = canonical(doc)
    if (canonical(projections[name] ?? {}) !== expected) return false
    for (const copy of copies) {
      if (canonical(copy.memories[name]) !== expected) return false
      if ((copy.pending?.[name] ?? 0) > 0) return false
    }
  }
  return true
}

/** Collects every copy until they agree or `deadline` passes; returns the last collection. */
export async function collectUntilAgreed(
  deadline: number,
  read: () => Promise<Collected>,
): Promise<{ collected: Collected; agreed: boolean }> {
  for (;;) {
    let collected: Collected | null = null
    try {
      collected = await read()
    } catch (error) {
      // Redis still loading or a writer busy: read again, unless time is up.
      if (Date.now() > deadline) throw error
    }
    if (collected && agreed(collected)) return { collected, agreed: true }
    if (collected && Date.now() > deadline) return { collected, agreed: false }
    await sleep(500)
  }
}
