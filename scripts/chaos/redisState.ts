/**
 * What Redis itself holds, read without any relay: each memory's document decoded from its
 * snapshot and log with yjs, and its projection keys.
 */
import * as Y from 'yjs'
import { type Json, type JsonObject, docToJSON } from '@remem/client/protocol'
import { type RedisLike, getAll, scanAll } from './redisTarget.ts'

/** A memory's document as stored in Redis. */
export interface StoredDoc {
  json: JsonObject
  /** Log entries read (after the snapshot). */
  entries: number
  /** Whether the snapshot and log leave structs or deletes that wait for missing updates. */
  pending: boolean
}

/** Decodes `remem:{<prefix><name>}:snapshot` and `…:log` into a document. */
export async function readStoredDoc(redis: RedisLike, prefix: string, name: string): Promise<StoredDoc> {
  const base = `remem:{${prefix}${name}}`
  // One transaction: a compaction between the two reads would hide the entries it trimmed.
  const replies = await redis.multi().getBuffer(`${base}:snapshot`).xrangeBuffer(`${base}:log`, '-', '+').exec()
  if (!replies || replies.some(([error]) => error)) throw new Error(`reading ${base} failed: ${String(replies?.find(([e]) => e)?.[0])}`)
  const snapshot = replies[0]![1] as Buffer | null
  const log = replies[1]![1] as Array<[Buffer, Buffer[]]>
  const doc = new Y.Doc({ gc: true })
  if (snapshot) doc.transact(() => Y.applyUpdate(doc, snapshot.subarray(snapshot.indexOf('|') + 1)))
  for (const [, fields] of log) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i]!.toString() === 'u') Y.applyUpdate(doc, fields[i + 1]!)
    }
  }
  const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null
  const json = docToJSON(doc)
  doc.destroy()
  return { json, entries: log.length, pending }
}

/** The projection keys `<prefix><name>:*`: top-level key → the `value` of its wrapped JSON. */
export async function readProjection(redis: RedisLike, prefix: string, name: string): Promise<Record<string, Json>> {
  const keys = await scanAll(redis, `${prefix}${name}:*`)
  const projection: Record<string, Json> = {}
  const texts = await getAll(redis, keys)
  keys.forEach((key, index) => {
    const text = texts[index]
    if (text === null || text === undefined) return
    const field = key.slice(`${prefix}${name}:`.length)
    try {
      const parsed = JSON.parse(text) as unknown
      projection[field] =
        parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'value' in parsed
          ? (parsed as { value: Json }).value
          : (parsed as Json)
    } catch {
      projection[field] = `<not JSON: ${text.slice(0, 80)}>`
    }
  })
  return projection
}
