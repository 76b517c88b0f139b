import { EmbeddedProjection } from './EmbeddedProjection.ts'
import { EpochChangedError, KEPT_ENDED_VECTORS, compareIds } from './Store.ts'
import type {
  AppendResult,
  EpochSwitch,
  LogEntry,
  PublishedUpdate,
  Store,
  StoreStatus,
  StoredMemory,
} from './Store.ts'

interface MemoryRecord {
  entries: LogEntry[]
  snapshot: Uint8Array | null
  snapshotUpto: string
  /** Sequence number of the last id handed out; ids are `${n}-0`. */
  lastSeq: number
  epoch: number
  previousVector: Uint8Array | null
  /** The state vector each of the last KEPT_ENDED_VECTORS epochs ended with. */
  endedVectors: Map<number, Uint8Array>
}

interface Subscription {
  listener: (update: PublishedUpdate) => void
  onEpoch: ((epoch: number) => void) | undefined
  active: boolean
}

/**
 * The store used when no Redis is configured: everything lives in this process.
 *
 * Several relays that share one instance behave like relays on one Redis: each append is
 * broadcast to every subscriber of the memory, asynchronously (in a microtask) and in log
 * order. Nothing survives a restart.
 */
export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const
  /** The plain keys of every memory; write to it as another Redis client would. */
  readonly projection: EmbeddedProjection

  /** @param options.prefix prefix of projection keys. @default 'memory:' */
  constructor(options: { prefix?: string } = {}) {
    this.projection = new EmbeddedProjection(options.prefix ?? 'memory:')
  }
  private readonly memories = new Map<string, MemoryRecord>()
  private readonly subscribers = new Map<string, Set<Subscription>>()
  private readonly statusListeners = new Set<(status: StoreStatus) => void>()
  private down = false

  async load(name: string): Promise<StoredMemory> {
    this.assertUp('load')
    const memory = this.memories.get(name)
    if (!memory) return { snapshot: null, entries: [], lastId: '0-0', epoch: 0, previousVector: null }
    return {
      snapshot: memory.snapshot,
      entries: [...memory.entries],
      lastId: lastIdOf(memory),
      epoch: memory.epoch,
      previousVector: memory.previousVector,
    }
  }

  async append(name: string, updates: Uint8Array[], relayId: string, epoch?: number): Promise<AppendResult> {
    this.assertUp('append')
    if (relayId.includes('|')) throw new Error(`relayId must not contain '|': ${relayId}`)
    const memory = this.record(name)
    if (epoch !== undefined && epoch !== memory.epoch) throw new EpochChangedError(name, memory.epoch)
    const prevId = lastIdOf(memory)
    const published: PublishedUpdate[] = []
    let before = prevId
    for (const update of updates) {
      // Past the snapshot too, in case a compaction named an id this store never gave out.
      memory.lastSeq = Math.max(memory.lastSeq, Number(memory.snapshotUpto.split('-')[0])) + 1
      const entry: LogEntry = { id: `${memory.lastSeq}-0`, update: update.slice() }
      memory.entries.push(entry)
      published.push({ ...entry, prevId: before, origin: relayId })
      before = entry.id
    }
    this.publish(name, published)
    return { ids: published.map((p) => p.id), prevId, logLength: memory.entries.length }
  }

  async readSince(name: string, afterId: string): Promise<LogEntry[] | null> {
    this.assertUp('readSince')
    const memory = this.memories.get(name)
    if (!memory) return []
    if (compareIds(memory.snapshotUpto, afterId) > 0) return null
    return memory.entries.filter((entry) => compareIds(entry.id, afterId) > 0)
  }

  async compact(name: string, snapshot: Uint8Array, uptoId: string): Promise<boolean> {
    this.assertUp('compact')
    const memory = this.record(name)
    if (compareIds(memory.snapshotUpto, uptoId) >= 0) return false
    memory.snapshot = snapshot.slice()
    memory.snapshotUpto = uptoId
    memory.entries = memory.entries.filter((entry) => compareIds(entry.id, uptoId) > 0)
    return true
  }

  async switchEpoch(name: string, change: EpochSwitch): Promise<boolean> {
    this.assertUp('switchEpoch')
    const memory = this.record(name)
    if (memory.epoch !== change.from || lastIdOf(memory) !== change.uptoId) return false
    memory.epoch = change.from + 1
    memory.previousVector = change.previousVector.slice()
    memory.endedVectors.set(change.from, memory.previousVector)
    memory.endedVectors.delete(change.from - KEPT_ENDED_VECTORS)
    memory.snapshot = change.snapshot.slice()
    memory.snapshotUpto = change.uptoId
    memory.entries = []
    const recipients = [...(this.subscribers.get(name) ?? [])]
    const epoch = memory.epoch
    queueMicrotask(() => {
      for (const subscription of recipients) if (subscription.active) subscription.onEpoch?.(epoch)
    })
    return true
  }

  async endedVector(name: string, epoch: number): Promise<Uint8Array | null> {
    this.assertUp('endedVector')
    return this.memories.get(name)?.endedVectors.get(epoch) ?? null
  }

  async subscribe(
    name: string,
    listener: (update: PublishedUpdate) => void,
    onEpoch?: (epoch: number) => void,
  ): Promise<() => Promise<void>> {
    const subscription: Subscription = { listener, onEpoch, active: true }
    let set = this.subscribers.get(name)
    if (!set) this.subscribers.set(name, (set = new Set()))
    set.add(subscription)
    return async () => {
      subscription.active = false
      set.delete(subscription)
      if (set.size === 0 && this.subscribers.get(name) === set) this.subscribers.delete(name)
    }
  }

  onStatus(listener: (status: StoreStatus) => void): () => void {
    this.statusListeners.add(listener)
    return () => {
      this.statusListeners.delete(listener)
    }
  }

  async close(): Promise<void> {
    for (const set of this.subscribers.values()) {
      for (const subscription of set) subscription.active = false
    }
    this.subscribers.clear()
    this.statusListeners.clear()
    this.projection.close()
  }

  /**
   * Test-only: while `down` is true, `load`, `append`, `readSince` and `compact` reject as
   * an unreachable Redis would; status listeners hear 'down' and then 'up'.
   */
  simulateOutage(down: boolean): void {
    if (down === this.down) return
    this.down = down
    for (const listener of [...this.statusListeners]) listener(down ? 'down' : 'up')
  }

  private assertUp(action: string): void {
    if (this.down) throw new Error(`EmbeddedStore is down (simulated outage): cannot ${action}`)
  }

  private record(name: string): MemoryRecord {
    let memory = this.memories.get(name)
    if (!memory) {
      memory = {
        entries: [],
        snapshot: null,
        snapshotUpto: '0-0',
        lastSeq: 0,
        epoch: 0,
        previousVector: null,
        endedVectors: new Map(),
      }
      this.memories.set(name, memory)
    }
    return memory
  }

  private publish(name: string, updates: PublishedUpdate[]): void {
    const set = this.subscribers.get(name)
    if (!set || updates.length === 0) return
    // Captured now so that a listener added after the append does not see it (as on Redis).
    const recipients = [...set]
    queueMicrotask(() => {
      for (const update of updates) {
        for (const subscription of recipients) {
          if (!subscription.active) continue
          try {
            subscription.listener(update)
          } catch (error) {
            console.error('remem: a store subscriber threw', error)
          }
        }
      }
    })
  }
}

function lastIdOf(memory: MemoryRecord): string {
  const last = `${memory.lastSeq}-0`
  return compareIds(last, memory.snapshotUpto) >= 0 ? last : memory.snapshotUpto
}
