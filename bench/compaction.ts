/**
 * Issue 2: what the log and snapshot look like after streaming 50,000 updates into one
 * memory, and how long a cold load takes (a new relay plus a new client, until the
 * client's first sync holds the data).
 */
import { EmbeddedStore, RedisStore, type Store } from '@remem/server'
import {
  type BenchContext,
  type Cell,
  STORES,
  type StoreKind,
  type Suite,
  closeAll,
  connect,
  median,
  memoryName,
  now,
  round,
  sleep,
  startRelay,
  whenOnline,
} from './lib.ts'

const UPDATES = 50_000
const KEYS = 10
const WINDOW = 64
const COLD_LOADS = 5
/** The relay's default `compactAfter`. */
const COMPACT_AFTER = 500

interface Observed {
  maxLogLength: number
  appends: number
  compactions: number
  maxSnapshotBytes: number
}

/** Makes `store` report what it is asked to do (log lengths after appends, compactions). */
function observe(store: Store): Observed {
  const observed: Observed = { maxLogLength: 0, appends: 0, compactions: 0, maxSnapshotBytes: 0 }
  const append = store.append.bind(store)
  const compact = store.compact.bind(store)
  store.append = async (name, updates, relayId) => {
    const result = await append(name, updates, relayId)
    observed.appends++
    observed.maxLogLength = Math.max(observed.maxLogLength, result.logLength)
    return result
  }
  store.compact = async (name, snapshot, uptoId) => {
    const done = await compact(name, snapshot, uptoId)
    if (done) {
      observed.compactions++
      observed.maxSnapshotBytes = Math.max(observed.maxSnapshotBytes, snapshot.byteLength)
    }
    return done
  }
  return observed
}

async function openStore(ctx: BenchContext, kind: StoreKind): Promise<Store> {
  const store: Store =
    kind === 'redis' ? await RedisStore.connect({ redis: (await ctx.redis()).url }) : new EmbeddedStore()
  ctx.defer(() => store.close())
  return store
}

interface ColdLoad {
  totalMs: number
  relayStartMs: number
  firstSyncMs: number
}

async function coldLoad(ctx: BenchContext, kind: StoreKind, store: Store, name: string): Promise<ColdLoad> {
  const t0 = now()
  // On Redis a fresh relay with its own connection; the embedded store lives in this process.
  const relay = await startRelay(ctx, kind, kind === 'embedded' ? { store } : {})
  const t1 = now()
  const client = connect(relay.url)
  try {
    const memory = client.memory(name)
    await whenOnline(memory)
    const t2 = now()
    const last = memory.get(`k${(UPDATES - 1) % KEYS}`)
    if (last !== UPDATES - 1) throw new Error(`cold load of ${name} holds ${String(last)}, expected ${UPDATES - 1}`)
    return { totalMs: t2 - t0, relayStartMs: t1 - t0, firstSyncMs: t2 - t1 }
  } finally {
    await closeAll([client])
    await relay.close()
  }
}

export const compaction: Suite = {
  name: 'compaction',
  issue: 2,
  title: `log, snapshot and cold load after ${UPDATES.toLocaleString('en-US')} updates`,
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const kind of STORES) {
      const store = await openStore(ctx, kind)
      const observed = observe(store)
      const relay = await startRelay(ctx, kind, { store })
      const name = memoryName(`compact-${kind}`)
      const client = connect(relay.url)
      const memory = client.memory(name)
      await whenOnline(memory)
      const t0 = now()
      for (let i = 0; i < UPDATES; i++) {
        memory.set(`k${i % KEYS}`, i)
        if ((i + 1) % WINDOW === 0) await memory.whenSynced()
      }
      await memory.whenSynced()
      const streamSeconds = (now() - t0) / 1000
      const errors = await closeAll([client])
      await sleep(200) // a compaction started by the last append
      await relay.close()
      const stored = await store.load(name)
      ctx.progress(`compaction ${kind}: streamed in ${streamSeconds.toFixed(1)} s, max log ${observed.maxLogLength}`)

      const loads: ColdLoad[] = []
      for (let run = 0; run < COLD_LOADS; run++) loads.push(await coldLoad(ctx, kind, store, name))
      const figure = {
        updatesPerSec: round(UPDATES / streamSeconds),
        appends: observed.appends,
        maxLogLength: observed.maxLogLength,
        compactions: observed.compactions,
        finalLogLength: stored.entries.length,
        snapshotBytes: stored.snapshot?.byteLength ?? 0,
        maxSnapshotBytes: observed.maxSnapshotBytes,
        coldLoadMs: round(median(loads.map((l) => l.totalMs)), 1),
        relayStartMs: round(median(loads.map((l) => l.relayStartMs)), 1),
        firstSyncMs: round(median(loads.map((l) => l.firstSyncMs)), 1),
        coldLoadRunsMs: loads.map((l) => round(l.totalMs, 1)),
        errors,
      }
      figures[kind] = figure
      rows.push([
        kind,
        figure.updatesPerSec,
        figure.appends,
        figure.maxLogLength,
        figure.compactions,
        figure.finalLogLength,
        figure.snapshotBytes,
        figure.coldLoadMs,
        figure.relayStartMs,
        figure.firstSyncMs,
      ])
    }
    return {
      tables: [
        {
          title: `compaction — ${UPDATES.toLocaleString('en-US')} updates into one memory (${KEYS} keys round-robin), cold load median of ${COLD_LOADS}`,
          columns: ['store', 'upd/s', 'appends', 'log max', 'compactions', 'log after', 'snapshot B', 'cold load ms', 'relay start', 'first sync'],
          rows,
          notes: [
            `one client, mem.set('k' + i % ${KEYS}, i), whenSynced() every ${WINDOW} writes; relay compactAfter ${COMPACT_AFTER} (default)`,
            'log max = largest log length an append reported; appends = store.append calls (the relay batches queued updates)',
            'cold load = new relay (on Redis: own connection) + new client until its first sync holds the last value; relay start / first sync split it',
          ],
        },
      ],
      figures: { updates: UPDATES, keys: KEYS, window: WINDOW, coldLoads: COLD_LOADS, ...figures },
    }
  },
}
