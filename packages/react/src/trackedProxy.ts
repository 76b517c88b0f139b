/**
 * Read tracking over immutable snapshots, with writes sent to the live memory.
 *
 * A tracked proxy reads from a frozen snapshot and records what it read (which keys were
 * got, tested with `in`, or listed) in an `Affected` map, keyed by snapshot node. Given the
 * next snapshot, {@link isChanged} walks only the recorded reads: because snapshots are
 * structurally shared, an untouched subtree is the same object and is skipped at once. This
 * is the method of `proxy-compare` (used by valtio and react-tracked); it is written out here
 * because the same proxy must also turn writes (`state.a = 1`, `state.todos.push(x)`,
 * `delete state.a`) into writes on the live view at the same path, which `proxy-compare`'s
 * read-only proxies cannot do.
 */

/** What was read from one snapshot node. */
interface Reads {
  /** Keys whose value was read (`node[key]`). */
  readonly get: Set<PropertyKey>
  /** Keys tested with `key in node`. */
  readonly has: Set<PropertyKey>
  /** Keys whose presence as own keys was asked (`Object.getOwnPropertyDescriptor`). */
  readonly hasOwn: Set<PropertyKey>
  /** Whether the list of keys was read (`Object.keys`, spread, `for…in`). */
  keys: boolean
}

/** The reads made through tracked proxies, by snapshot node. */
export type Affected = WeakMap<object, Reads>

/**
 * `Symbol.for('remem.synced')` is how `@remem/client` recognises views when it validates a
 * written value: a tracked proxy answers it with its plain snapshot, so `state.b = state.a`
 * copies the value as rendered.
 */
const SYNCED = Symbol.for('remem.synced')
/** Key that returns the snapshot node behind a tracked proxy. */
const NODE = Symbol('remem.react.node')

/** List methods that write: forwarded to the live list (which refuses sort and reverse). */
const LIST_WRITES = new Set([
  'push',
  'pop',
  'shift',
  'unshift',
  'splice',
  'insert',
  'move',
  'delete',
  'clear',
  'sort',
  'reverse',
  'fill',
  'copyWithin',
])

type Path = readonly string[]

/** A proxy's changing parts: cached proxies are rebound to each render's reads and path. */
interface ProxyState {
  readonly node: object
  path: Path
  affected: Affected
}

/**
 * Tracked proxies for one reader (one hook instance). A node keeps its proxy across
 * snapshots while it is unchanged, so `state.todos[3]` is the same object from render to
 * render until that todo changes (good for `memo` and effect dependencies).
 */
export class TrackedProxies {
  readonly #liveRoot: () => object
  readonly #cache = new WeakMap<object, { proxy: object; state: ProxyState }>()

  /** @param liveRoot The live view writes go to (`live(memory)`); may throw when there is none. */
  constructor(liveRoot: () => object) {
    this.#liveRoot = liveRoot
  }

  /** A tracked proxy of `snapshot` that records its reads in `affected`. */
  root<T>(snapshot: object, affected: Affected): T {
    return this.#proxy(snapshot, [], affected) as T
  }

  #proxy(node: object, path: Path, affected: Affected): object {
    const cached = this.#cache.get(node)
    if (cached) {
      cached.state.path = path
      cached.state.affected = affected
      return cached.proxy
    }
    const state: ProxyState = { node, path, affected }
    const proxy = new Proxy(Array.isArray(node) ? [] : {}, this.#handler(state))
    this.#cache.set(node, { proxy, state })
    return proxy
  }

  #child(state: ProxyState, key: PropertyKey, value: unknown): unknown {
    return isObject(value) && typeof key === 'string' && Object.hasOwn(state.node, key)
      ? this.#proxy(value, [...state.path, key], state.affected)
      : value
  }

  /** The live view at `path`, looked up now (the node may have moved since the render). */
  #live(path: Path): object {
    let view = this.#liveRoot()
    for (const [depth, key] of path.entries()) {
      const next: unknown = Reflect.get(view, key)
      if (!isObject(next)) {
        throw new TypeError(
          `cannot write to ${formatPath(path)}: ${formatPath(path.slice(0, depth + 1))} is no longer in the memory`,
        )
      }
      view = next
    }
    return view
  }

  // The target is an empty stand-in, not the frozen node: a Proxy must return a frozen
  // target's own values unchanged, and this one returns proxies for nested nodes.
  #handler(state: ProxyState): ProxyHandler<object> {
    return {
      get: (_target, key) => {
        const node = state.node
        if (key === NODE) return node
        if (key === SYNCED) return () => node
        if (Array.isArray(node) && typeof key === 'string' && LIST_WRITES.has(key)) {
          return (...args: unknown[]) => {
            const list = this.#live(state.path)
            return Reflect.apply(Reflect.get(list, key) as (...a: unknown[]) => unknown, list, args)
          }
        }
        reads(state).get.add(key)
        return this.#child(state, key, Reflect.get(node, key))
      },
      has: (_target, key) => {
        reads(state).has.add(key)
        return Reflect.has(state.node, key)
      },
      ownKeys: () => {
        reads(state).keys = true
        return Reflect.ownKeys(state.node)
      },
      getOwnPropertyDescriptor: (_target, key) => {
        const node = state.node
        reads(state).hasOwn.add(key)
        const descriptor = Reflect.getOwnPropertyDescriptor(node, key)
        if (descriptor === undefined) return undefined
        if (Array.isArray(node) && key === 'length') {
          // Must match the stand-in's own non-configurable `length` (a Proxy invariant).
          return { value: node.length, writable: true, enumerable: false, configurable: false }
        }
        const value = this.#child(state, key, descriptor.value)
        return {
          value,
          writable: true,
          enumerable: descriptor.enumerable ?? true,
          configurable: true,
        }
      },
      set: (_target, key, value) => Reflect.set(this.#live(state.path), key, value),
      deleteProperty: (_target, key) => Reflect.deleteProperty(this.#live(state.path), key),
      defineProperty: (_target, key, descriptor) =>
        Reflect.defineProperty(this.#live(state.path), key, descriptor),
      setPrototypeOf: () => false,
      preventExtensions: () => false,
    }
  }
}

/**
 * Whether anything recorded in `affected` differs between `prev` and `next`. A node that was
 * reached but not read into counts as changed when it is a new object (it may be used whole,
 * as an effect dependency for example).
 */
export function isChanged(prev: unknown, next: unknown, affected: Affected): boolean {
  if (Object.is(prev, next)) return false
  if (!isObject(prev) || !isObject(next)) return true
  const used = affected.get(prev)
  if (!used) return true
  if (used.keys && !sameKeys(Reflect.ownKeys(prev), Reflect.ownKeys(next))) return true
  for (const key of used.has) {
    if (Reflect.has(prev, key) !== Reflect.has(next, key)) return true
  }
  for (const key of used.hasOwn) {
    if (hasOwnKey(prev, key) !== hasOwnKey(next, key)) return true
  }
  for (const key of used.get) {
    if (isChanged(Reflect.get(prev, key), Reflect.get(next, key), affected)) return true
  }
  return false
}

/** The snapshot node behind a tracked proxy, or `value` itself. */
export function untracked<T>(value: T): T {
  return isObject(value) ? ((Reflect.get(value, NODE) as T | undefined) ?? value) : value
}

function reads(state: ProxyState): Reads {
  let used = state.affected.get(state.node)
  if (!used) {
    used = { get: new Set(), has: new Set(), hasOwn: new Set(), keys: false }
    state.affected.set(state.node, used)
  }
  return used
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

function hasOwnKey(node: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(node, key)
}

function sameKeys(a: PropertyKey[], b: PropertyKey[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i])
}

function formatPath(path: Path): string {
  return path.reduce<string>(
    (out, key) => (/^\d+$/.test(key) ? `${out}[${key}]` : `${out}.${key}`),
    'state',
  )
}
