/**
 * A synced dict: a view over one dict node of a memory (see `model/layout.ts`). Reads go
 * through the node's index (`model/DictIndex.ts`); writes validate first, then change the
 * document in one transaction.
 */
import type * as Y from 'yjs'
import { ValidationError } from './errors.ts'
import { dictIndex } from './model/indexes.ts'
import { type JsonObject, type Slot, dictToJSON, scanDict } from './model/layout.ts'
import { keyPath } from './model/path.ts'
import { SYNCED } from './model/synced.ts'
import { toJson } from './model/validate.ts'
import type { SyncedValue, ViewContext } from './model/ViewContext.ts'
import { deleteLosers, dictClear, dictDelete, dictSet } from './model/write.ts'

/**
 * A string-keyed map of JSON values, synced with every other copy of its memory. Nested
 * objects come back as `SyncedDict`s and arrays as `SyncedList`s.
 *
 * Concurrent writes of different keys are all kept; concurrent writes of one key leave one
 * winner, the same on every copy. Writing an object over a dict changes only the fields that
 * differ, so concurrent edits of other fields survive.
 *
 * @example
 * mem.set('cpu', 0.5).set('todos', [{ text: 'a' }])
 * mem.get('cpu') // 0.5
 * mem.get<SyncedList>('todos')?.push({ text: 'b' })
 */
export class SyncedDict {
  readonly #array: Y.Array<unknown>
  readonly #context: ViewContext

  /** Views are made by a `ViewContext`; use `context.dictView(array)` to share instances. */
  constructor(array: Y.Array<unknown>, context: ViewContext) {
    this.#array = array
    this.#context = context
  }

  /**
   * The value of `key`: a primitive, a `SyncedDict`, a `SyncedList`, or `undefined`.
   * The type parameter is a cast for convenience.
   *
   * @example
   * const todos = mem.get<SyncedList>('todos')
   */
  get<T extends SyncedValue = SyncedValue>(key: string): T | undefined {
    const entry = this.#entry(key)
    return entry && (this.#context.slotValue(entry) as T)
  }

  /**
   * Sets `key` to a JSON value (synced views are copied). Validates first: on a
   * `ValidationError` nothing changes.
   *
   * @example
   * mem.set('todos', [{ text: 'a', done: false }])
   */
  set(key: string, value: unknown): this {
    this.#context.assertWritable()
    const json = toJson(value, keyPath('', assertKey(key)))
    this.#write(() => dictSet(this.#array, key, json))
    return this
  }

  /**
   * Sets several keys in one transaction; other keys are left as they are.
   *
   * @example
   * mem.update({ cpu: 0.7, mem: 0.4 })
   */
  update(values: Record<string, unknown>): this {
    this.#context.assertWritable()
    const json = toJson(values)
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ValidationError('update() takes a plain object of keys and values')
    }
    this.#write(() => {
      for (const [key, value] of Object.entries(json)) dictSet(this.#array, key, value)
    })
    return this
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    this.#context.assertWritable()
    return this.#write(() => dictDelete(this.#array, key))
  }

  /** Removes every key. */
  clear(): void {
    this.#context.assertWritable()
    this.#context.transact(() => dictClear(this.#array))
  }

  /** Whether `key` has a value. */
  has(key: string): boolean {
    return this.#entry(key) !== undefined
  }

  /** The keys, in storage order. */
  keys(): string[] {
    return this.#winners().map((entry) => entry.key)
  }

  /** The values, in the order of {@link keys}. */
  values(): SyncedValue[] {
    return this.entries().map(([, value]) => value)
  }

  /** The `[key, value]` pairs, in the order of {@link keys}. */
  entries(): Array<[string, SyncedValue]> {
    return this.#winners().map((entry) => [entry.key, this.#context.slotValue(entry)])
  }

  /** The number of keys. */
  get size(): number {
    return dictIndex(this.#array)?.size ?? scanDict(this.#array).entries.size
  }

  /** A plain JSON copy of the content. */
  toJSON(): JsonObject {
    return dictToJSON(this.#array)
  }

  [Symbol.iterator](): IterableIterator<[string, SyncedValue]> {
    return this.entries()[Symbol.iterator]()
  }

  [SYNCED](): JsonObject {
    return this.toJSON()
  }

  /** Runs a write in a transaction, and deletes the entries that lost a concurrent write. */
  #write<T>(fn: () => T): T {
    return this.#context.transact(() => {
      deleteLosers(this.#array)
      return fn()
    })
  }

  /** The winning entry of `key`, from the index (or a scan when the node has none). */
  #entry(key: string): Slot | undefined {
    const index = dictIndex(this.#array)
    return index ? index.get(key) : scanDict(this.#array).entries.get(key)
  }

  /** The winning entries in storage order. */
  #winners(): Array<Slot & { key: string }> {
    const index = dictIndex(this.#array)
    return index ? index.winners() : [...scanDict(this.#array).entries.values()]
  }
}

function assertKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new ValidationError(`a key must be a string, not ${typeof key}`)
  }
  return key
}
