/**
 * Issue 4: offline edits and their storage. In Node through fake-indexeddb (an in-memory
 * IndexedDB), so the footprint is counted in stored bytes, as a browser would hold them.
 *
 * - reconnect: 10,000 edits made while the relay is down, then the relay starts again on the
 *   same port; time from the relay listening (and from the memory being online again)
 *   until every edit is acknowledged.
 * - footprint: bytes in IndexedDB for one memory after 100,000 edits, once acknowledged
 *   and checkpointed, and (for comparison) with 10,000 edits still queued.
 */
import { IDBKeyRange, indexedDB } from 'fake-indexeddb'
import { createStore, entries } from 'idb-keyval'
import { type Memory, createClient, createIndexedDbStorage } from '@remem/client'
import WebSocket from 'ws'
import { createServer } from 'node:net'
import {
  type Cell,
  type StoreKind,
  STORES,
  type Suite,
  formatBytes,
  median,
  memoryName,
  now,
  repeat,
  round,
  startRelay,
  until,
  whenOnline,
} from './lib.ts'

const OFFLINE_EDITS = 10_000
const FOOTPRINT_EDITS = 100_000
const RUNS = 3

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Bytes stored in an IndexedDB database: values (Yjs updates) plus keys as JSON. */
async function storedBytes(database: string): Promise<{ bytes: number; entries: number }> {
  const all = await entries(createStore(database, 'memories'))
  let bytes = 0
  for (const [key, value] of all) {
    bytes += JSON.stringify(key).length
    bytes += value instanceof Uint8Array ? value.byteLength : JSON.stringify(value).length
  }
  return { bytes, entries: all.length }
}

function offlineClient(url: string, database: string) {
  return createClient({
    url,
    WebSocket,
    storage: createIndexedDbStorage({ database }),
    backoff: { minMs: 20, maxMs: 200 },
    onError: () => {},
  })
}

function edit(memory: Memory, i: number): void {
  memory.set(`k${i % 50}`, { i, at: i * 3 })
}

async function reconnect(ctx: Parameters<Suite['run']>[0], kind: StoreKind): Promise<{ totalMs: number; onlineMs: number; queued: number }> {
  const port = await freePort()
  const name = memoryName('offline')
  const database = `bench-${name}`
  let relay = await startRelay(ctx, kind, { port })
  const client = offlineClient(relay.url, database)
  try {
    const memory = client.memory(name)
    await whenOnline(memory)
    await relay.close()
    await until(() => memory.status.connection !== 'online', 'client offline')
    for (let i = 0; i < OFFLINE_EDITS; i++) edit(memory, i)
    await until(() => memory.status.pending === OFFLINE_EDITS, 'edits queued')
    const queued = (await storedBytes(database)).bytes
    const t0 = now()
    relay = await startRelay(ctx, kind, { port })
    let onlineAt = 0
    const off = memory.subscribeStatus(() => {
      if (!onlineAt && memory.status.connection === 'online') onlineAt = now()
    })
    await memory.whenSynced()
    const done = now()
    off()
    return { totalMs: done - t0, onlineMs: done - (onlineAt || done), queued }
  } finally {
    await client.close()
  }
}

async function footprint(ctx: Parameters<Suite['run']>[0]): Promise<{ bytes: number; entries: number }> {
  const relay = await startRelay(ctx, 'embedded')
  const name = memoryName('footprint')
  const database = `bench-${name}`
  const client = offlineClient(relay.url, database)
  try {
    const memory = client.memory(name)
    await whenOnline(memory)
    // 100 edits per transaction: the stored footprint after acks and a checkpoint is the
    // document either way, and fake-indexeddb is too slow for 100,000 queue writes.
    for (let batch = 0; batch < FOOTPRINT_EDITS / 100; batch++) {
      memory.transact(() => {
        for (let i = batch * 100; i < (batch + 1) * 100; i++) edit(memory, i)
      })
      if (batch % 50 === 49) await memory.whenSynced()
    }
    await memory.whenSynced()
  } finally {
    await client.close() // checkpoints: acknowledged edits leave the queue
  }
  const stored = await storedBytes(database)
  return stored
}

export const offline: Suite = {
  name: 'offline',
  issue: 4,
  title: 'offline edits: reconnect until acknowledged, IndexedDB footprint',
  async run(ctx) {
    // An in-memory IndexedDB for this suite only: installed globally, it would turn every
    // other suite's clients to IndexedDB storage (their default where indexedDB exists).
    const globals = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown }
    globals.indexedDB = indexedDB
    globals.IDBKeyRange = IDBKeyRange
    ctx.defer(() => {
      delete globals.indexedDB
      delete globals.IDBKeyRange
    })
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const kind of STORES) {
      const runs = await repeat(RUNS, async () => {
        ctx.progress(`offline reconnect on ${kind}`)
        return reconnect(ctx, kind)
      })
      const total = median(runs.map((r) => r.totalMs))
      const online = median(runs.map((r) => r.onlineMs))
      const queued = median(runs.map((r) => r.queued))
      rows.push([kind, OFFLINE_EDITS, round(total), round(online), formatBytes(queued)])
      figures[kind] = { reconnectToAckedMs: round(total), onlineToAckedMs: round(online), queuedBytes: queued, runs }
    }
    ctx.progress(`footprint after ${FOOTPRINT_EDITS} edits`)
    const print = await footprint(ctx)
    figures.footprint = { edits: FOOTPRINT_EDITS, ...print }
    return {
      tables: [
        {
          title: `reconnect with ${OFFLINE_EDITS.toLocaleString('en-US')} offline edits, ms, median of ${RUNS}`,
          columns: ['store', 'edits', 'relay up → all acked', 'online → all acked', 'queued in IndexedDB'],
          rows,
          notes: [
            'edits: mem.set(`k${i % 50}`, { i, at }) while the relay is closed; then a relay starts on the same port',
            'client: IndexedDB storage (fake-indexeddb in Node), backoff 20–200 ms; includes the reconnect delay',
          ],
        },
        {
          title: `IndexedDB footprint of one memory after ${FOOTPRINT_EDITS.toLocaleString('en-US')} edits (acknowledged, checkpointed)`,
          columns: ['entries', 'bytes', 'size'],
          rows: [[print.entries, print.bytes, formatBytes(print.bytes)]],
          notes: [
            'edits made in 1,000 transactions of 100 (one queued update each), acknowledged as they go',
            'bytes = stored values (Yjs updates) + keys as JSON, after client.close() (which checkpoints)',
          ],
        },
      ],
      figures,
    }
  },
}
