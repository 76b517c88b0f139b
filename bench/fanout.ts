/**
 * Issue 2: latency from one writer to 100 readers of the same memory, through one relay,
 * on Redis and embedded. Writer, readers and relay share this process, so one clock
 * (`performance.now()`) stamps the send and the arrival.
 */
import { SyncedDict } from '@remem/client'
import {
  type BenchClient,
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
  quantile,
  round,
  sleep,
  startRelay,
  until,
  whenOnline,
} from './lib.ts'

const READERS = 100
const RUNS = 3
const MESSAGES = 40
const INTERVAL_MS = 50

interface RunResult {
  /** Every arrival: reader × message. */
  latencies: number[]
  /** Per message, the latency of the last reader to get it. */
  lastReader: number[]
  delivered: number
  expected: number
}

async function measure(ctx: BenchContext, kind: StoreKind, url: string): Promise<RunResult> {
  const name = memoryName(`fan-${kind}`)
  const readers: BenchClient[] = []
  const writer = connect(url)
  try {
    for (let i = 0; i < READERS; i++) readers.push(connect(url))
    const latencies: number[] = []
    const arrivals = new Map<number, number[]>()
    for (const reader of readers) {
      const memory = reader.memory(name)
      let last: number | undefined
      memory.subscribe(() => {
        const ping = memory.get('ping')
        const t = ping instanceof SyncedDict ? ping.get('t') : undefined
        if (typeof t !== 'number' || t === last) return
        last = t
        const latency = now() - t
        latencies.push(latency)
        let perMessage = arrivals.get(t)
        if (!perMessage) arrivals.set(t, (perMessage = []))
        perMessage.push(latency)
      })
    }
    const out = writer.memory(name)
    await Promise.all([out, ...readers.map((r) => r.memory(name))].map((memory) => whenOnline(memory)))
    const sent: number[] = []
    for (let i = 0; i < MESSAGES; i++) {
      const t = now()
      sent.push(t)
      out.set('ping', { t })
      await sleep(INTERVAL_MS)
    }
    await out.whenSynced()
    const lastSent = sent.at(-1)!
    await until(() => (arrivals.get(lastSent)?.length ?? 0) >= READERS, 'the last ping to reach every reader', 10_000).catch(
      () => undefined,
    )
    const lastReader = sent.map((t) => Math.max(...(arrivals.get(t) ?? [Number.NaN])))
    ctx.progress(`fanout ${kind}: p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms`)
    return {
      latencies,
      lastReader: lastReader.filter(Number.isFinite),
      delivered: latencies.length,
      expected: MESSAGES * READERS,
    }
  } finally {
    const errors = await closeAll([writer, ...readers])
    if (errors > 0) ctx.progress(`fanout ${kind}: clients reported ${errors} errors`)
  }
}

export const fanout: Suite = {
  name: 'fanout',
  issue: 2,
  title: `latency from one writer to ${READERS} readers`,
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const kind of STORES) {
      const relay = await startRelay(ctx, kind)
      const runs: RunResult[] = []
      for (let run = 0; run < RUNS; run++) runs.push(await measure(ctx, kind, relay.url))
      await relay.close()
      const p = (q: number, of: (r: RunResult) => number[]): number => round(median(runs.map((r) => quantile(of(r), q))), 2)
      const delivered = runs.reduce((s, r) => s + r.delivered, 0)
      const expected = runs.reduce((s, r) => s + r.expected, 0)
      const row = {
        p50: p(0.5, (r) => r.latencies),
        p99: p(0.99, (r) => r.latencies),
        max: round(median(runs.map((r) => Math.max(...r.latencies))), 2),
        lastReaderP50: p(0.5, (r) => r.lastReader),
        delivered: round((delivered / expected) * 100, 2),
      }
      rows.push([kind, row.p50, row.p99, row.max, row.lastReaderP50, `${row.delivered}%`])
      figures[kind] = { ...row, runsP50: runs.map((r) => round(quantile(r.latencies, 0.5), 2)), runsP99: runs.map((r) => round(quantile(r.latencies, 0.99), 2)) }
    }
    return {
      tables: [
        {
          title: `fanout — ms from writer set() to reader change, 1 writer → ${READERS} readers, median of ${RUNS} runs`,
          columns: ['store', 'p50', 'p99', 'max', 'last reader p50', 'delivered'],
          rows,
          notes: [
            `writer sets ping = { t: performance.now() } every ${INTERVAL_MS} ms, ${MESSAGES} times per run; each reader records arrival − t in mem.subscribe`,
            `relay, writer and ${READERS} reader clients (one WebSocket each) share one process and one clock`,
            `p50/p99 over all ${MESSAGES * READERS} arrivals of a run; "last reader" = per message, the slowest reader (time to reach all of them); max = slowest arrival`,
          ],
        },
      ],
      figures: { readers: READERS, messages: MESSAGES, intervalMs: INTERVAL_MS, runs: RUNS, ...figures },
    }
  },
}
