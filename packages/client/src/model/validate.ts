/**
 * Validation of values before they are written: only JSON goes into a memory, and a value
 * that is not JSON is refused as a whole with an error that names where and what it is.
 */
import { ValidationError } from '../errors.ts'
import { type Json, type JsonObject, setOwn } from './layout.ts'
import { indexPath, keyPath } from './path.ts'
import { SYNCED, isSyncedMarked } from './synced.ts'

/**
 * Validates `value` and returns a plain JSON copy of it. Synced views and `live()` proxies
 * become their plain JSON content.
 *
 * @param path Where the value goes, used in error messages ('' for a bare value).
 * @throws ValidationError naming the offending place, for example
 *   `todos[3].due is a Date: store it as a string or number (toISOString())`.
 * @example
 * toJson({ cpu: 0.5, tags: ['a'] }) // { cpu: 0.5, tags: ['a'] }
 * toJson({ at: new Date() }, 'event') // throws: event.at is a Date: …
 */
export function toJson(value: unknown, path = ''): Json {
  // A primitive has no ancestors to track: no set is made for it (most writes are primitives).
  const ancestors = typeof value === 'object' && value !== null ? new Set<object>() : NO_ANCESTORS
  const json = normalize(value, path, ancestors)
  // Only objects, arrays and long strings can pass the limit: skip measuring anything else.
  if (typeof json === 'string' ? json.length > MAX_VALUE_CHARS / 6 : typeof json === 'object' && json !== null) {
    const size = JSON.stringify(json).length
    if (size > MAX_VALUE_CHARS) {
      throw new ValidationError(
        `${path || 'the value'} is ${size} characters of JSON: one change may carry at most ` +
          `${MAX_VALUE_CHARS} (the relay refuses updates over its maxUpdateBytes, 1 MiB by default). ` +
          'Split it over several keys or list items.',
        path,
      )
    }
  }
  return json
}

/**
 * Largest value, in JSON characters, one write may carry. Even at 3 UTF-8 bytes a character
 * it stays below the relay's default `maxUpdateBytes` (1 MiB), so that an honest client never
 * makes a change the relay must refuse (a refused change leaves the client's copy diverged:
 * its later changes depend on it).
 */
export const MAX_VALUE_CHARS = 256 * 1024

/** What `normalize` is given for a primitive, which never reads or adds ancestors. */
const NO_ANCESTORS: Set<object> = new Set()

function normalize(value: unknown, path: string, ancestors: Set<object>): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isNaN(value)) fail(path, 'is NaN: use a finite number or null')
      if (!Number.isFinite(value)) fail(path, `is ${value}: use a finite number or null`)
      return value
    case 'undefined':
      return fail(path, 'is undefined: use null or delete the key')
    case 'function':
      return fail(path, 'is a function: store data only')
    case 'bigint':
      return fail(path, 'is a BigInt: convert it to a number or a string')
    case 'symbol':
      return fail(path, 'is a symbol: use a string')
    case 'object':
      if (value === null) return null
      if (ancestors.has(value)) fail(path, 'is a circular reference: store a copy or an id')
      ancestors.add(value)
      try {
        return normalizeObject(value, path, ancestors)
      } finally {
        ancestors.delete(value)
      }
  }
}

function normalizeObject(value: object, path: string, ancestors: Set<object>): Json {
  // Before the plain-object test: a live() proxy of a dict looks like a plain object.
  if (isSyncedMarked(value)) return normalize(value[SYNCED](), path, ancestors)
  if (Array.isArray(value)) {
    const out: Json[] = []
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (item === undefined) {
        fail(
          indexPath(path, i),
          i in value ? 'is undefined: use null' : 'is an empty slot: use null',
        )
      }
      out.push(normalize(item, indexPath(path, i), ancestors))
    }
    return out
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) fail(path, describeInstance(value))
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) {
      fail(path, `has the symbol key ${String(symbol)}: use string keys`)
    }
  }
  const out: JsonObject = {}
  for (const [key, item] of Object.entries(value)) {
    setOwn(out, key, normalize(item, keyPath(path, key), ancestors))
  }
  return out
}

function describeInstance(value: object): string {
  if (value instanceof Date) return 'is a Date: store it as a string or number (toISOString())'
  if (value instanceof Map) return 'is a Map: use a plain object (Object.fromEntries(map))'
  if (value instanceof Set) return 'is a Set: use an array ([...set])'
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name
  const what =
    typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'a class instance'
  return `is ${what}: use a plain object or array`
}

function fail(path: string, problem: string): never {
  throw new ValidationError(`${path === '' ? 'value' : path} ${problem}`, path)
}
