/**
 * The projection on a Redis Cluster. The layout of the values is the same as on one Redis
 * (`P{name}:{key}`, landing in any slot); what moves is each key's record: it lives in
 * `remem:{<tag>}:records`, a hash in the value key's own slot (see ClusterKeyspace.ts), so
 * the project and claim scripts touch one slot each, as a cluster requires.
 */
import type { Cluster, Redis } from 'ioredis'
import type { KeyEvent, KeyRead, KeyspaceMode, ProjectionWrite, WriteResult } from './Projection.ts'
import { splitProjectionKey } from './Projection.ts'
import { keySlot, recordsKeyFor } from './ClusterKeyspace.ts'
import { ClusterNotifications } from './ClusterNotifications.ts'
import { RedisProjection } from './RedisProjection.ts'
import { escapeGlob } from './projectionFormat.ts'

/** Options of {@link ClusterProjection}. */
export interface ClusterProjectionOptions {
  cluster: Cluster
  prefix: string
  /** 'off': no keyspace notifications; changes are found by periodic reconcile. */
  keyspace: KeyspaceMode
  /** Replicas that must hold an ingest's claim and confirm (see `RedisProjectionOptions`). */
  ackReplicas?: number
  /** With `ackReplicas`, how long `WAIT` waits. */
  ackTimeoutMs?: number
}

/** The projection of memories to plain keys of a Redis Cluster. */
export class ClusterProjection extends RedisProjection {
  private readonly cluster: Cluster
  private notifications: ClusterNotifications | null = null

  constructor(options: ClusterProjectionOptions) {
    // The cluster client speaks every command used on one Redis; the scripts get defined on it.
    super({ ...options, redis: options.cluster as unknown as Redis })
    this.cluster = options.cluster
  }

  /** The records hash in the value key's slot. */
  protected override projKey(name: string, key?: string): string {
    if (key === undefined) throw new Error('ClusterProjection: a record is located by its key')
    return recordsKeyFor(this.valueKey(name, key))
  }

  /** Records of all memories share the slot hashes, so the field is the full value key. */
  protected override recordField(name: string, key: string): string {
    return this.valueKey(name, key)
  }

  /** A pipeline per slot (a cluster pipeline may not span slots), sent together. */
  override async write(name: string, writes: ProjectionWrite[]): Promise<WriteResult> {
    const bySlot = new Map<number, ProjectionWrite[]>()
    for (const write of writes) {
      const slot = keySlot(this.valueKey(name, write.key))
      const group = bySlot.get(slot)
      if (group) group.push(write)
      else bySlot.set(slot, [write])
    }
    const results = await Promise.all([...bySlot.values()].map((group) => super.write(name, group)))
    return results.reduce(mergeResults, await super.write(name, []))
  }

  /**
   * Every projection key of the memory (SCAN on every primary) with its record. Records of
   * keys that are gone are not listed: the next write of such a key finds the record and
   * reports the external delete as a conflict, which is then ingested.
   */
  override async readAll(name: string): Promise<{ keys: Map<string, KeyRead>; recorded: Map<string, string> }> {
    const keys = new Map<string, KeyRead>()
    const recorded = new Map<string, string>()
    const pattern = `${escapeGlob(`${this.prefix}${name}:`)}*`
    const found: string[] = []
    for (const node of this.cluster.nodes('master')) {
      let cursor = '0'
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
        cursor = next
        found.push(...batch)
      } while (cursor !== '0')
    }
    for (const fullKey of new Set(found)) {
      const split = splitProjectionKey(this.prefix, fullKey)
      if (!split || split.name !== name) continue
      keys.set(split.key, await this.readKey(fullKey))
      const record = await this.cluster.hget(recordsKeyFor(fullKey), fullKey)
      if (record !== null) recorded.set(split.key, record)
    }
    return { keys, recorded }
  }

  /** Turns on the notifications the relay needs on every node (a replica may be promoted). */
  override async setupKeyspace(): Promise<void> {
    await ClusterNotifications.configure(this.cluster.nodes('all'))
  }

  /** Follows notifications on every primary, also after failovers and added nodes. */
  override async watch(listener: (event: KeyEvent) => void, onGap?: () => void): Promise<() => Promise<void>> {
    if (this.options.keyspace === 'off') return async () => {}
    const notifications = new ClusterNotifications({
      cluster: this.cluster,
      pattern: `__keyspace@0__:${escapeGlob(this.prefix)}*`,
      onEvent: (channel, event) => {
        const split = splitProjectionKey(this.prefix, channel.slice('__keyspace@0__:'.length))
        if (split) listener({ ...split, event })
      },
      onGap: () => onGap?.(),
    })
    this.notifications = notifications
    await notifications.start()
    return async () => {
      this.notifications = null
      await notifications.stop()
    }
  }
}

/** Adds up two write results: counts add, key lists concatenate. */
function mergeResults(total: WriteResult, part: WriteResult): WriteResult {
  const merged: Record<string, unknown> = { ...total }
  for (const [field, value] of Object.entries(part)) {
    const sum = merged[field]
    if (typeof value === 'number') merged[field] = Number(sum ?? 0) + value
    else if (Array.isArray(value)) merged[field] = [...((sum as unknown[] | undefined) ?? []), ...value]
  }
  return merged as unknown as WriteResult
}
