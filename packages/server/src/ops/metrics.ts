/**
 * The relay's Prometheus metrics, in a registry of its own (several relays can share a
 * process, as they do in tests). Gauges are read when scraped; counters move with traffic.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ProjectionStats } from '../ProjectionBridge.ts'

/** What a memory room reports as it works. */
export interface RoomEvents {
  /** A client update passed every check and was applied. */
  updateAccepted(): void
  /** A client update was acknowledged (persisted), `latencyMs` after it arrived. */
  acked(latencyMs: number): void
}

/** What the metrics read from the relay when scraped. */
export interface MetricsSource {
  readonly sessions: ReadonlySet<{ readonly socket: { readonly bufferedAmount: number } }>
  readonly rooms: ReadonlyMap<string, unknown>
  readonly stats: ProjectionStats
  storeUp(): boolean
}

export class RelayMetrics implements RoomEvents {
  readonly registry = new Registry()
  private readonly updates: Counter
  private readonly acks: Counter
  private readonly ackLatency: Histogram
  private readonly refusals: Counter<'reason'>
  private readonly throttles: Counter

  constructor(source: MetricsSource) {
    const registers = [this.registry]
    new Gauge({
      name: 'remem_connections',
      help: 'Open WebSocket connections.',
      registers,
      collect() {
        this.set(source.sessions.size)
      },
    })
    new Gauge({
      name: 'remem_memories',
      help: 'Memories loaded on this relay.',
      registers,
      collect() {
        this.set(source.rooms.size)
      },
    })
    new Gauge({
      name: 'remem_buffered_bytes',
      help: 'Bytes queued for sending to clients, summed over connections.',
      registers,
      collect() {
        let total = 0
        for (const session of source.sessions) total += session.socket.bufferedAmount
        this.set(total)
      },
    })
    new Gauge({
      name: 'remem_store_up',
      help: '1 while the store (Redis) is reachable, else 0.',
      registers,
      collect() {
        this.set(source.storeUp() ? 1 : 0)
      },
    })
    const countFrom = (read: () => number) => {
      let last = 0
      return function (this: Counter) {
        const value = read()
        if (value > last) this.inc(value - last)
        last = value
      }
    }
    new Counter({
      name: 'remem_ingests_total',
      help: 'External writes to projection keys turned into document changes.',
      registers,
      collect: countFrom(() => source.stats.ingests),
    })
    new Counter({
      name: 'remem_projected_total',
      help: 'Top-level keys written to their plain Redis keys.',
      registers,
      collect: countFrom(() => source.stats.projected),
    })
    this.updates = new Counter({
      name: 'remem_updates_total',
      help: 'Client updates accepted and applied.',
      registers,
    })
    this.acks = new Counter({
      name: 'remem_acks_total',
      help: 'Client updates acknowledged (persisted).',
      registers,
    })
    this.ackLatency = new Histogram({
      name: 'remem_ack_latency_seconds',
      help: 'Time from receiving a client update to acknowledging it.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.refusals = new Counter({
      name: 'remem_refusals_total',
      help: 'Refused requests and closed connections, by reason (an ERROR code name or a close reason).',
      labelNames: ['reason'],
      registers,
    })
    this.throttles = new Counter({
      name: 'remem_throttled_total',
      help: 'Times a connection exceeded its message or byte budget and was read more slowly.',
      registers,
    })
  }

  updateAccepted(): void {
    this.updates.inc()
  }

  acked(latencyMs: number): void {
    this.acks.inc()
    this.ackLatency.observe(latencyMs / 1000)
  }

  refused(reason: string): void {
    this.refusals.inc({ reason })
  }

  throttled(): void {
    this.throttles.inc()
  }

  /** The metrics in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
