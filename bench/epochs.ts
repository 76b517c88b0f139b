/**
 * Issue 11, bounded size: each size workload through a relay on Redis, before (compaction
 * only: the document keeps its history) and after (epochs), at 1,000,000 operations
 * (`EPOCH_BENCH_OPS` to change). The encoded document is what a new client downloads; stored is
 * the snapshot plus the log in Redis; the bound is 2 × JSON + 8 KiB. `EPOCH_BENCH_WORKLOADS=0,3`
 * runs only those workloads (indices into test/sizeWorkloads.ts WORKLOADS).
 */
import { RedisStore } from '@remem/server'
import { startRelay } from '../test/helpers.ts'
import { WORKLOADS, boundOf, runWorkload } from '../test/sizeWorkloads.ts'
import { type Cell, type Suite, formatBytes, now, round } from './lib.ts'

const OPS = Number(process.env.EPOCH_BENCH_OPS ?? 1_000_000)
/** `EPOCH_BENCH_WORKLOADS=0,3` runs only those workloads (indices into WORKLOADS), to split the long run over processes. */
const ONLY = process.env.EPOCH_BENCH_WORKLOADS?.split(',').map(Number)
/** `EPOCH_BENCH_MODES=after` measures only with epochs (the run without them is the slow one). */
const MODES = (process.env.EPOCH_BENCH_MODES?.split(',') ?? ['before', 'after']) as Array<'before' | 'after'>

export const epochs: Suite = {
  name: 'epochs',
  issue: 11,
  title: `document size after ${OPS.toLocaleString('en-US')} operations, without and with epochs (Redis)`,
  timeoutMs: 4 * 60 * 60_000,
  async run(ctx) {
    const redis = await ctx.redis()
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const [index, workload] of WORKLOADS.entries()) {
      if (ONLY && !ONLY.includes(index)) continue
      const measured: Record<string, { json: number; encoded: number; stored: number; epoch: number; us: number }> = {}
      for (const mode of MODES) {
        const store = new RedisStore({ redis: redis.url })
        const relay = await startRelay({ store, idleUnloadMs: 3_600_000, epochs: mode === 'after' })
        try {
          const name = `epochs-bench-${mode}-${index}-${Date.now()}`
          const room = await relay.relay.openRoom(name)
          const t0 = now()
          const result = await runWorkload(room, workload, OPS)
          const elapsed = now() - t0
          const stored = await store.load(name)
          const storedBytes =
            (stored.snapshot?.byteLength ?? 0) + stored.entries.reduce((sum, entry) => sum + entry.update.byteLength, 0)
          measured[mode] = {
            json: result.jsonBytes,
            encoded: result.encodedBytes,
            stored: storedBytes,
            epoch: result.epoch,
            us: (elapsed * 1000) / OPS,
          }
          ctx.progress(`epochs ${mode} ${workload.name}: ${JSON.stringify(measured[mode])}`)
        } finally {
          await relay.close()
          await store.close()
        }
      }
      const missing = { json: 0, encoded: NaN, stored: NaN, epoch: 0, us: NaN }
      const before = measured['before'] ?? missing
      const after = measured['after'] ?? { ...missing, json: before.json }
      rows.push([
        workload.name,
        formatBytes(after.json),
        formatBytes(before.encoded),
        formatBytes(before.stored),
        formatBytes(after.encoded),
        formatBytes(after.stored),
        formatBytes(boundOf(after.json)),
        after.epoch,
        round(after.us, 1),
      ])
      figures[workload.name] = { before, after, bound: boundOf(after.json) }
    }
    return {
      tables: [
        {
          title: `epochs — bytes after ${OPS.toLocaleString('en-US')} operations (Redis)`,
          columns: ['workload', 'JSON', 'before: encoded', 'before: stored', 'after: encoded', 'after: stored', 'bound', 'epochs', 'µs/op'],
          rows,
          notes: [
            'operations go through MemoryRoom.handleClientUpdate (checked, applied, persisted) in batches of 1,000, as test/sizeWorkloads.ts',
            'encoded: Y.encodeStateAsUpdate of the room (what a new client downloads); stored: snapshot + log read back from Redis',
            'before: the same relay without new epochs (compaction only); bound: 2 × JSON + 8 KiB',
          ],
        },
      ],
      figures: { ops: OPS, ...figures },
    }
  },
}
