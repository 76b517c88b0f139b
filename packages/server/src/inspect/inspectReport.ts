/**
 * The inspector's report: every memory loaded on this relay or present in the store (for
 * Redis, found with SCAN over the internal keys `remem:{<prefix><name>}:*`), and for each
 * one the caller may see: its connections and their presence, its encoded document size
 * against its JSON size, what the store holds (snapshot bytes, log length and bytes),
 * its projection keys with their TTLs, updates/s and acks/s over the last minute, recent
 * refusals; then a tail of the latest updates.
 */
import { docToJSON } from '@remem/client/protocol'
import type { Redis } from 'ioredis'
import * as Y from 'yjs'
import type { Access } from '../auth/token.ts'
import type { MemoryRoom } from '../MemoryRoom.ts'
import type { Relay } from '../Relay.ts'
import type { InspectedRefusal, RelayInspector, TailEntry } from './RelayInspector.ts'

/** One connection to a memory on this relay. */
export interface InspectedSession {
  /** A number for this connection, stable while it lives. */
  readonly id: number
  /** Its presence: each Yjs client id it announced and the state it shares. */
  readonly presence: ReadonlyArray<{ clientId: number; state: unknown }>
}

export interface InspectedMemory {
  readonly name: string
  /** What the token may do with it: the page offers writes only with 'write'. */
  readonly access: 'read' | 'write'
  /** Whether it is loaded on this relay (has or recently had clients). */
  readonly loaded: boolean
  readonly sessions: readonly InspectedSession[]
  /** The document as this relay holds it (or as rebuilt from the store when not loaded). */
  readonly document: {
    readonly encodedBytes: number
    readonly jsonBytes: number
    readonly keys: number
  }
  /** What the store holds: the compacted snapshot and the log after it. */
  readonly stored: {
    readonly snapshotBytes: number
    /** The log id the snapshot covers (compaction state), or null without one (or unknown: embedded). */
    readonly compactedUpTo: string | null
    readonly logLength: number
    readonly logBytes: number
  }
  /** Plain keys of its top-level values; ttlMs null: no expiry. Redis only. */
  readonly projection: ReadonlyArray<{ key: string; ttlMs: number | null; bytes: number }>
  readonly updatesPerSecond: number
  readonly acksPerSecond: number
  /** Client updates accepted but not yet persisted (their acks are withheld until they are). */
  readonly pendingWrites: number
  readonly refusals: readonly InspectedRefusal[]
}

export interface InspectReport {
  readonly relay: {
    readonly id: string
    readonly store: 'redis' | 'embedded'
    readonly prefix: string
    readonly connections: number
    readonly loadedMemories: number
  }
  readonly memories: readonly InspectedMemory[]
  /** Names of further visible memories, not detailed (past `limit`; ask with `memory`). */
  readonly more: readonly string[]
  /** Refusals that concern no single memory (tokens, upgrades). */
  readonly refusals: readonly InspectedRefusal[]
  readonly tail: readonly TailEntry[]
}

export interface ReportSource {
  relay: Relay
  inspector: RelayInspector
  /** A connection to the relay's Redis, or null with the embedded store. */
  redis: Redis | null
  prefix: string
}

const NAME = '[A-Za-z0-9_.@-]{1,200}'

/** Builds the report of the memories `accessOf` lets the caller see. */
/** Which memories to detail: each one costs a read of its whole log. */
export interface ReportScope {
  /** Only this memory. */
  memory?: string | undefined
  /** At most this many, loaded ones first, then by name. @default 50 */
  limit?: number
}

/** Builds the report of the memories `accessOf` lets the caller see. */
export async function inspectReport(
  source: ReportSource,
  accessOf: (name: string) => Promise<Access>,
  scope: ReportScope = {},
): Promise<InspectReport> {
  const { relay, inspector, redis, prefix } = source
  for (const room of relay.rooms.values()) inspector.follow(room)
  const found = new Set(relay.rooms.keys())
  for (const name of redis ? await scanMemories(redis, prefix) : embeddedMemories(relay))
    found.add(name)
  const names = [...found]
    .filter((name) => scope.memory === undefined || name === scope.memory)
    .sort((a, b) => Number(relay.rooms.has(b)) - Number(relay.rooms.has(a)) || (a < b ? -1 : 1))
  const limit = scope.limit ?? 50
  const memories: InspectedMemory[] = []
  const more: string[] = []
  for (const name of names) {
    const access = await accessOf(name)
    if (access === 'none') continue
    if (memories.length < limit) memories.push(await inspectMemory(source, name, access))
    else more.push(name)
  }
  memories.sort((a, b) => (a.name < b.name ? -1 : 1))
  const visible = new Set([...memories.map((memory) => memory.name), ...more])
  return {
    relay: {
      id: relay.id,
      store: relay.store.kind,
      prefix,
      connections: relay.sessions.size,
      loadedMemories: relay.rooms.size,
    },
    memories,
    more: more.sort(),
    refusals: inspector.relayRefusals,
    tail: inspector.tail.filter((entry) => visible.has(entry.memory)),
  }
}

async function inspectMemory(
  source: ReportSource,
  name: string,
  access: 'read' | 'write',
): Promise<InspectedMemory> {
  const { relay, inspector, redis, prefix } = source
  const room = relay.rooms.get(name)
  const stored = await relay.store.load(name)
  let doc = room?.doc
  if (!doc) {
    doc = new Y.Doc({ gc: true })
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const entry of stored.entries) Y.applyUpdate(doc, entry.update)
  }
  const json = docToJSON(doc)
  const activity = inspector.activity(name)
  return {
    name,
    access,
    loaded: room !== undefined,
    sessions: room ? sessionsOf(room) : [],
    document: {
      encodedBytes: Y.encodeStateAsUpdate(doc).byteLength,
      jsonBytes: Buffer.byteLength(JSON.stringify(json)),
      keys: Object.keys(json).length,
    },
    stored: redis
      ? await storedInRedis(redis, prefix, name)
      : {
          snapshotBytes: stored.snapshot?.byteLength ?? 0,
          compactedUpTo: null,
          logLength: stored.entries.length,
          logBytes: stored.entries.reduce((sum, entry) => sum + entry.update.byteLength, 0),
        },
    projection: redis ? await projectionKeys(redis, prefix, name) : [],
    updatesPerSecond: activity.updatesPerSecond,
    acksPerSecond: activity.acksPerSecond,
    pendingWrites: room?.pendingWrites ?? 0,
    refusals: activity.refusals,
  }
}

let nextSessionId = 1
const sessionIds = new WeakMap<object, number>()

function sessionsOf(room: MemoryRoom): InspectedSession[] {
  // The room's presence table, read as it is (client id → announcing session and state);
  // RoomAwareness has no reader of its own. test/inspector.test.ts notices if it changes.
  const table = (room.awareness as unknown as { known?: unknown }).known
  const known =
    table instanceof Map
      ? (table as Map<number, { session: object; state: string | null }>)
      : new Map()
  return [...room.sessions].map((session) => {
    let id = sessionIds.get(session)
    if (id === undefined) sessionIds.set(session, (id = nextSessionId++))
    const presence: Array<{ clientId: number; state: unknown }> = []
    for (const [clientId, entry] of known) {
      if (entry.session === session && entry.state !== null) {
        presence.push({ clientId, state: JSON.parse(entry.state) as unknown })
      }
    }
    return { id, presence }
  })
}

/** Memories with internal keys in Redis: `remem:{<prefix><name>}:log|snapshot|proj`. */
async function scanMemories(redis: Redis, prefix: string): Promise<Set<string>> {
  const pattern = new RegExp(`^remem:\\{${escapeRegExp(prefix)}(${NAME})\\}:(?:log|snapshot|proj)$`)
  const names = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `remem:{${prefix}*`, 'COUNT', 500)
    cursor = next
    for (const key of keys) {
      const name = pattern.exec(key)?.[1]
      if (name !== undefined) names.add(name)
    }
  } while (cursor !== '0')
  return names
}

function embeddedMemories(relay: Relay): Iterable<string> {
  if (relay.store.kind !== 'embedded') return []
  // The embedded store has no listing of its own; its table is read as it is.
  const table = (relay.store as unknown as { memories?: unknown }).memories
  return table instanceof Map ? (table as Map<string, unknown>).keys() : []
}

async function storedInRedis(
  redis: Redis,
  prefix: string,
  name: string,
): Promise<InspectedMemory['stored']> {
  const base = `remem:{${prefix}${name}}`
  const [snapshotBytes, head, logLength, entries] = await Promise.all([
    redis.strlen(`${base}:snapshot`),
    // The snapshot is stored as `<uptoId>|<bytes>`.
    redis.getrange(`${base}:snapshot`, 0, 63),
    redis.xlen(`${base}:log`),
    redis.xrangeBuffer(`${base}:log`, '-', '+'),
  ])
  let logBytes = 0
  for (const [, fields] of entries) {
    for (let index = 1; index < fields.length; index += 2) logBytes += fields[index]!.byteLength
  }
  const bar = head.indexOf('|')
  return { snapshotBytes, compactedUpTo: bar > 0 ? head.slice(0, bar) : null, logLength, logBytes }
}

async function projectionKeys(
  redis: Redis,
  prefix: string,
  name: string,
): Promise<InspectedMemory['projection']> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}${name}:*`, 'COUNT', 500)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0' && keys.length < 1000)
  keys.sort()
  const pipeline = redis.pipeline()
  for (const key of keys) pipeline.pttl(key).strlen(key)
  const results = (await pipeline.exec()) ?? []
  return keys.map((key, index) => {
    const ttl = Number(results[index * 2]?.[1] ?? -1)
    return { key, ttlMs: ttl >= 0 ? ttl : null, bytes: Number(results[index * 2 + 1]?.[1] ?? 0) }
  })
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
