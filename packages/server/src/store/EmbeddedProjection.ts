/**
 * The projection of the embedded store: an in-process key-value map with expiry and
 * change events, shaped like the few Redis string commands remem needs. Code in the relay's
 * process (the demo's producer, tests) writes to it as another Redis client would.
 */
import type { Json } from '@remem/client/protocol'
import type { ClaimResult, KeyEvent, KeyRead, Projection, ProjectionWrite, WriteResult } from './Projection.ts'
import { splitProjectionKey } from './Projection.ts'
import {
  isWrappedText,
  parseStoredString,
  recordFor,
  recordValueHash,
  sha1hex,
  valueHash,
  wrapValue,
} from './projectionFormat.ts'
import { MAX_REPLACED } from './projectionScripts.ts'

interface Entry {
  raw: string
  expiresAt?: number
  timer?: ReturnType<typeof setTimeout>
}

/** A claimed ingest not confirmed yet (in place of the key's record, as on Redis). */
interface Lease {
  owner: string
  until: number
  /** The record of what was read ('' for an absent key). */
  read: string
  /** The value hashes the key may last have held as recorded (see `ClaimResult`). */
  replaced: string[]
}

const isLease = (record: string | Lease | undefined): record is Lease => typeof record === 'object'

/**
 * The value hashes a key may last have held as recorded, newest first: the record's, or for a
 * lease never confirmed, what it read and what it replaced (as the Redis claim script does).
 */
function replacedBy(record: string | Lease | undefined): string[] {
  if (record === undefined) return []
  if (!isLease(record)) return [recordValueHash(record)!]
  const read = recordValueHash(record.read)
  return [...new Set([...(read === null ? [] : [read]), ...record.replaced])].slice(0, MAX_REPLACED)
}

export class EmbeddedProjection implements Projection {
  private readonly entries = new Map<string, Entry>()
  private readonly recorded = new Map<string, Map<string, string | Lease>>()
  private readonly listeners = new Set<(event: KeyEvent) => void>()

  constructor(readonly prefix: string) {}

  // --- the Redis-like surface, for other writers -------------------------------------

  /** Like Redis SET: stores `raw` at `fullKey`, optionally expiring after `ttlMs`. */
  set(fullKey: string, raw: string, options: { ttlMs?: number } = {}): void {
    this.store(fullKey, raw, options.ttlMs === undefined ? undefined : Date.now() + options.ttlMs)
    this.emit(fullKey, 'set')
  }

  /** Like Redis GET. */
  get(fullKey: string): string | null {
    return this.entries.get(fullKey)?.raw ?? null
  }

  /** Like Redis DEL; returns whether the key existed. */
  del(fullKey: string): boolean {
    const had = this.drop(fullKey)
    if (had) this.emit(fullKey, 'del')
    return had
  }

  /** Like Redis PEXPIRE. */
  expire(fullKey: string, ttlMs: number): boolean {
    const entry = this.entries.get(fullKey)
    if (!entry) return false
    this.store(fullKey, entry.raw, Date.now() + ttlMs)
    this.emit(fullKey, 'expire')
    return true
  }

  /** Keys starting with `prefix`, like SCAN MATCH prefix*. */
  keys(prefix = ''): string[] {
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix))
  }

  private store(fullKey: string, raw: string, expiresAt: number | undefined): void {
    const previous = this.entries.get(fullKey)
    if (previous?.timer) clearTimeout(previous.timer)
    const entry: Entry = expiresAt === undefined ? { raw } : { raw, expiresAt }
    if (expiresAt !== undefined) {
      entry.timer = setTimeout(
        () => {
          if (this.entries.get(fullKey) !== entry) return
          this.entries.delete(fullKey)
          this.emit(fullKey, 'expired')
        },
        Math.max(0, expiresAt - Date.now()),
      )
      entry.timer.unref?.()
    }
    this.entries.set(fullKey, entry)
  }

  private drop(fullKey: string): boolean {
    const entry = this.entries.get(fullKey)
    if (!entry) return false
    if (entry.timer) clearTimeout(entry.timer)
    this.entries.delete(fullKey)
    return true
  }

  private emit(fullKey: string, event: string): void {
    const split = splitProjectionKey(this.prefix, fullKey)
    if (!split) return
    queueMicrotask(() => {
      for (const listener of this.listeners) listener({ ...split, event })
    })
  }

  private recordOf(name: string): Map<string, string | Lease> {
    let record = this.recorded.get(name)
    if (!record) this.recorded.set(name, (record = new Map()))
    return record
  }

  // --- Projection ---------------------------------------------------------------------

  /** Whether `fullKey` holds what `record` says (no external change waiting). */
  private matches(fullKey: string, record: string | Lease | undefined): boolean {
    if (isLease(record)) return false
    const entry = this.entries.get(fullKey)
    if (!entry) return record === undefined
    return record !== undefined && record.slice(record.indexOf(':') + 1) === sha1hex(entry.raw)
  }

  async write(name: string, writes: ProjectionWrite[]): Promise<WriteResult> {
    const outcome: WriteResult = { written: 0, conflicts: [], waiting: [] }
    const records = this.recordOf(name)
    for (const { key, value, expiresAt } of writes) {
      const fullKey = `${this.prefix}${name}:${key}`
      const record = records.get(key)
      if (isLease(record) && record.until > Date.now()) {
        outcome.waiting.push(key)
        continue
      }
      if (isLease(record) || !this.matches(fullKey, record)) {
        outcome.conflicts.push(key)
        continue
      }
      if (value === undefined) {
        if (!this.entries.has(fullKey)) continue
        this.drop(fullKey)
        records.delete(key)
        this.emit(fullKey, 'del')
        outcome.written++
        continue
      }
      const hash = valueHash(value, expiresAt)
      if (this.entries.has(fullKey) && typeof record === 'string' && record.startsWith(`${hash}:`)) continue
      const wrapped = wrapValue(value)
      this.store(fullKey, wrapped, expiresAt)
      records.set(key, `${hash}:${sha1hex(wrapped)}`)
      this.emit(fullKey, 'set')
      outcome.written++
    }
    return outcome
  }

  async read(name: string, key: string): Promise<KeyRead> {
    return this.readKey(`${this.prefix}${name}:${key}`)
  }

  private readKey(fullKey: string): KeyRead {
    const entry = this.entries.get(fullKey)
    if (!entry) return { kind: 'absent' }
    const value: Json = parseStoredString(entry.raw)
    return entry.expiresAt === undefined
      ? { kind: 'value', value, raw: entry.raw }
      : { kind: 'value', value, raw: entry.raw, expiresAt: entry.expiresAt }
  }

  async readAll(name: string): Promise<{ keys: Map<string, KeyRead>; recorded: Map<string, string> }> {
    const keys = new Map<string, KeyRead>()
    for (const fullKey of this.keys(`${this.prefix}${name}:`)) {
      const split = splitProjectionKey(this.prefix, fullKey)
      if (split) keys.set(split.key, this.readKey(fullKey))
    }
    const recorded = new Map<string, string>()
    for (const [key, record] of this.recordOf(name)) {
      recorded.set(
        key,
        isLease(record) ? `lease|${record.owner}|${record.until}|${record.read}|${record.replaced.join(',')}` : record,
      )
    }
    return { keys, recorded }
  }

  async claim(name: string, key: string, read: KeyRead, owner: string, leaseMs: number): Promise<ClaimResult> {
    if (read.kind === 'unsupported') return { kind: 'skip' }
    const records = this.recordOf(name)
    const record = records.get(key)
    const now = Date.now()
    if (isLease(record) && record.owner !== owner && record.until > now) {
      return { kind: 'busy', retryMs: record.until - now }
    }
    const entry = this.entries.get(`${this.prefix}${name}:${key}`)
    const take = (readRecord: string): ClaimResult => {
      const replaced = replacedBy(record)
      records.set(key, { owner, until: now + leaseMs, read: readRecord, replaced })
      return { kind: 'claimed', replaced }
    }
    if (read.kind === 'absent') return record === undefined || entry ? { kind: 'skip' } : take('')
    const readRecord = recordFor(read.value, read.expiresAt, read.raw)
    // Already recorded, or changed again since it was read (that change brings its own event).
    if (record === readRecord || !entry || read.raw === null || entry.raw !== read.raw) return { kind: 'skip' }
    return take(readRecord)
  }

  async confirm(name: string, key: string, read: KeyRead, owner: string): Promise<void> {
    if (read.kind === 'unsupported') return
    const records = this.recordOf(name)
    const record = records.get(key)
    const readRecord = read.kind === 'absent' ? '' : recordFor(read.value, read.expiresAt, read.raw)
    if (!isLease(record) || record.owner !== owner || record.read !== readRecord) return
    if (read.kind === 'absent') {
      records.delete(key)
      return
    }
    const entry = this.entries.get(`${this.prefix}${name}:${key}`)
    if (entry && read.raw !== null && entry.raw === read.raw && !isWrappedText(read.raw)) {
      entry.raw = wrapValue(read.value)
      records.set(key, recordFor(read.value, read.expiresAt, entry.raw))
      return
    }
    records.set(key, readRecord)
  }

  async watch(listener: (event: KeyEvent) => void): Promise<() => Promise<void>> {
    this.listeners.add(listener)
    return async () => {
      this.listeners.delete(listener)
    }
  }

  /** Clears timers. */
  close(): void {
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer)
  }
}
