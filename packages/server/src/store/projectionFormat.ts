/**
 * The projection's value format, shared with Python's `redis-memory` ConversationMemory:
 * `P{name}:{key}` holds `{"value": <json>, "last_modified": <ns since epoch>}`.
 * Reading accepts that wrapped form, bare JSON, and any other string (taken as a string).
 */
import { createHash } from 'node:crypto'
import type { Json } from '@remem/client/protocol'

/** Nanoseconds since the epoch as an exact integer string, like Python's `time.time_ns()`. */
export function nowNs(): string {
  const ms = BigInt(Date.now())
  const sub = process.hrtime.bigint() % 1_000_000n
  return (ms * 1_000_000n + sub).toString()
}

/** The wrapped JSON text stored at a projection key. */
export function wrapValue(value: Json): string {
  return `{"value":${JSON.stringify(value)},"last_modified":${nowNs()}}`
}

/** Whether a stored text is in the wrapped layout (else a writer stored bare JSON or text). */
export function isWrappedText(raw: string): boolean {
  try {
    return isWrapped(JSON.parse(raw))
  } catch {
    return false
  }
}

/** Reads the text of a projection key: wrapped JSON, bare JSON, or a plain string. */
export function parseStoredString(raw: string): Json {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return raw
  }
  if (isWrapped(parsed)) return parsed.value
  return parsed as Json
}

function isWrapped(value: unknown): value is { value: Json } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  if (!Object.hasOwn(value, 'value')) return false
  return Object.keys(value).every((key) => key === 'value' || key === 'last_modified')
}

/** Reads one element of a Redis hash or list: JSON when it parses, else the string. */
export function parseElement(raw: string): Json {
  try {
    return JSON.parse(raw) as Json
  } catch {
    return raw
  }
}

/** Hash of a value and its expiry (ms epoch); equal values give equal hashes. */
export function valueHash(value: Json, expiresAt?: number): string {
  return createHash('sha1')
    .update(JSON.stringify(value))
    .update(expiresAt ? `|${expiresAt}` : '')
    .digest('base64url')
}

/** SHA-1 of a text in hex, the same as Lua's `redis.sha1hex`. */
export function sha1hex(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

/**
 * What the `proj` hash records for a key: `<valueHash>:<sha1 of the stored text>` (the
 * text part is empty for hashes and lists). A key whose record matches holds exactly what
 * a relay last wrote or ingested; anything else is a change nobody has ingested yet.
 */
export function recordFor(value: Json, expiresAt: number | undefined, raw: string | null): string {
  return `${valueHash(value, expiresAt)}:${raw === null ? '' : sha1hex(raw)}`
}

/** The value hash of a record made by `recordFor`, or null for '' (a key read absent). */
export function recordValueHash(record: string): string | null {
  return record === '' ? null : record.slice(0, record.indexOf(':'))
}

/** Escapes Redis glob characters, for SCAN MATCH and PSUBSCRIBE patterns. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}
