/**
 * Attribute-style access to synced views through Proxies: `state.cpu = 0.7`,
 * `state.todos.push(x)`, `delete state.cpu`. Every write goes through the view, so it is
 * validated and synced exactly like `SyncedDict.set` and the `SyncedList` methods.
 */
import { ValidationError } from './errors.ts'
import { SYNCED } from './model/synced.ts'
import type { SyncedValue } from './model/ViewContext.ts'
import { SyncedDict } from './SyncedDict.ts'
import { SyncedList } from './SyncedList.ts'

const VIEW = Symbol('remem.live.view')
const proxies = new WeakMap<SyncedDict | SyncedList, object>()

/** Array methods that read: on a live list they run over a fresh array of its live items. */
const READ_METHODS = new Set<string | symbol>([
  'at',
  'concat',
  'entries',
  'every',
  'filter',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'flat',
  'flatMap',
  'forEach',
  'includes',
  'indexOf',
  'join',
  'keys',
  'lastIndexOf',
  'map',
  'reduce',
  'reduceRight',
  'slice',
  'some',
  'toLocaleString',
  'toReversed',
  'toSorted',
  'toSpliced',
  'toString',
  'values',
  'with',
  Symbol.iterator,
])

/** Array methods that would rearrange items in place: not supported on a synced list. */
const UNSUPPORTED_METHODS = new Set<string | symbol>(['sort', 'reverse', 'fill', 'copyWithin'])

/**
 * An attribute-style view of a synced dict or list. Nested dicts and lists come back as live
 * views too, the same object each time while the node is the same.
 *
 * @example
 * const state = live<{ cpu: number; todos: Array<{ text: string }> }>(mem)
 * state.cpu = 0.7
 * state.todos.push({ text: 'b' })
 * delete state.cpu
 * JSON.stringify(state) // the plain content
 */
export function live<T extends object = Record<string, unknown>>(view: SyncedDict | SyncedList): T {
  const existing = isLive(view) ? view : proxies.get(view)
  if (existing) return existing as T
  const proxy = view instanceof SyncedList ? liveList(view) : liveDict(view)
  proxies.set(view, proxy)
  return proxy as T
}

/** Whether `value` is a proxy made by {@link live}. */
export function isLive(value: unknown): boolean {
  return unwrapLive(value) !== undefined
}

/**
 * The view behind a proxy made by {@link live}, or `undefined` for any other value.
 *
 * @example
 * unwrapLive(live(mem)) === mem // true
 */
export function unwrapLive(value: unknown): SyncedDict | SyncedList | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const view = (value as { [VIEW]?: unknown })[VIEW]
  return view instanceof SyncedDict || view instanceof SyncedList ? view : undefined
}

function wrap(value: SyncedValue | undefined): unknown {
  return value instanceof SyncedDict || value instanceof SyncedList ? live(value) : value
}

function liveDict(view: SyncedDict): object {
  return new Proxy<object>(
    {},
    {
      get(target, key, receiver) {
        if (key === VIEW) return view
        if (key === SYNCED) return () => view.toJSON()
        const value = typeof key === 'string' ? view.get(key) : undefined
        // Keys that are not stored fall through to Object.prototype, as on a plain object.
        return value === undefined ? Reflect.get(target, key, receiver) : wrap(value)
      },
      set(_target, key, value) {
        view.set(stringKey(key), value)
        return true
      },
      deleteProperty(_target, key) {
        view.delete(stringKey(key))
        return true
      },
      has(target, key) {
        return (typeof key === 'string' && view.has(key)) || Reflect.has(target, key)
      },
      ownKeys() {
        return view.keys()
      },
      getOwnPropertyDescriptor(_target, key) {
        const value = typeof key === 'string' ? view.get(key) : undefined
        if (value === undefined) return undefined
        return { value: wrap(value), writable: true, enumerable: true, configurable: true }
      },
      defineProperty(_target, key, descriptor) {
        if (!('value' in descriptor)) {
          throw new TypeError(
            'A live object stores data only: define a value, not a getter or setter',
          )
        }
        view.set(stringKey(key), descriptor.value)
        return true
      },
      setPrototypeOf() {
        return false
      },
      preventExtensions() {
        return false
      },
    },
  )
}

function liveList(view: SyncedList): object {
  const items = (): unknown[] => view.toArray().map(wrap)
  const methods: Record<string, (...args: never[]) => unknown> = {
    push: (...values: unknown[]) => view.push(...values),
    unshift: (...values: unknown[]) => view.unshift(...values),
    pop: () => view.pop(),
    shift: () => view.shift(),
    // As Array.prototype.splice: no deleteCount removes to the end, an undefined one nothing.
    splice: (start: number, ...rest: unknown[]) =>
      rest.length === 0
        ? view.splice(start)
        : view.splice(start, (rest[0] as number | undefined) ?? 0, ...rest.slice(1)),
    insert: (index: number, ...values: unknown[]) => view.insert(index, ...values),
    move: (from: number, to: number) => view.move(from, to),
    delete: (index: number, count?: number) => view.delete(index, count),
    clear: () => view.clear(),
    toJSON: () => view.toJSON(),
  }
  return new Proxy<unknown[]>([], {
    get(target, key, receiver) {
      if (key === VIEW) return view
      if (key === SYNCED) return methods['toJSON']
      if (key === 'length') return view.length
      const index = arrayIndex(key)
      if (index !== undefined) return wrap(view.get(index))
      if (typeof key === 'string' && Object.hasOwn(methods, key)) return methods[key]
      if (READ_METHODS.has(key)) {
        const method = Reflect.get(Array.prototype, key) as (...args: unknown[]) => unknown
        return (...args: unknown[]) => method.apply(items(), args)
      }
      if (UNSUPPORTED_METHODS.has(key)) {
        throw new TypeError(
          `${String(key)}() is not supported on a synced list: write a new array instead, for example list = [...list].${String(key)}()`,
        )
      }
      return Reflect.get(target, key, receiver)
    },
    set(_target, key, value) {
      const index = arrayIndex(key)
      const length = view.length
      if (index !== undefined && index === length) view.push(value)
      else if (index !== undefined) view.set(index, value)
      else if (key === 'length') truncate(view, value)
      else throw new TypeError(`A synced list stores items only: cannot set ${String(key)}`)
      return true
    },
    deleteProperty(_target, key) {
      throw new TypeError(
        `delete list[${String(key)}] would leave a hole: use list.splice(index, 1) instead`,
      )
    },
    has(target, key) {
      const index = arrayIndex(key)
      if (index !== undefined) return index < view.length
      return Reflect.has(target, key)
    },
    ownKeys() {
      return [...Array.from({ length: view.length }, (_, i) => String(i)), 'length']
    },
    getOwnPropertyDescriptor(target, key) {
      if (key === 'length') {
        // Must match the target's own non-configurable `length` (a Proxy invariant).
        return { value: view.length, writable: true, enumerable: false, configurable: false }
      }
      const index = arrayIndex(key)
      if (index === undefined || index >= view.length)
        return Reflect.getOwnPropertyDescriptor(target, key)
      return { value: wrap(view.get(index)), writable: true, enumerable: true, configurable: true }
    },
    defineProperty() {
      throw new TypeError(
        'A synced list stores items only: use push, insert or list[index] = value',
      )
    },
    setPrototypeOf() {
      return false
    },
    preventExtensions() {
      return false
    },
  })
}

function stringKey(key: string | symbol): string {
  if (typeof key === 'symbol') {
    throw new ValidationError(`${String(key)} is a symbol key: use string keys`)
  }
  return key
}

/** The array index a property key names, or undefined. */
function arrayIndex(key: string | symbol): number | undefined {
  if (typeof key !== 'string') return undefined
  const index = Number(key)
  return Number.isInteger(index) && index >= 0 && String(index) === key ? index : undefined
}

function truncate(view: SyncedList, value: unknown): void {
  const length = view.length
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > length) {
    throw new RangeError(
      `length ${String(value)} is out of range: a synced list can only be shortened (0 to ${length})`,
    )
  }
  if (value < length) view.delete(value, length - value)
}
