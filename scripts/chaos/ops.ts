/**
 * The operations chaos writers make, the model that replays them, and how a writer picks
 * the next one. Each writer only touches its own top-level keys (`<id>_a`, `<id>_b`,
 * `<id>_d`, `<id>_l`), and every value it writes names the op that wrote it (`w3-17`), so the
 * state of a writer's keys after any prefix of its operations is known exactly.
 */
import type { Json, JsonObject } from '@remem/client/protocol'
import type { Prng } from './prng.ts'

/** One operation on a writer's own keys of one memory; journaled as JSON before it is made. */
export type Op =
  | { k: 'set'; key: string; value: Json }
  | { k: 'del'; key: string }
  | { k: 'dset'; key: string; path: string[]; value: Json }
  | { k: 'ddel'; key: string; path: string[] }
  | { k: 'push'; key: string; item: Json }
  | { k: 'insert'; key: string; index: number; item: Json }
  | { k: 'ldel'; key: string; index: number }
  | { k: 'move'; key: string; from: number; to: number }

/** The writer's keys of one memory, as plain JSON. */
export type Model = Record<string, Json>

const MAX_LIST = 24

/** A deep copy of `model`. */
export function cloneModel(model: Model): Model {
  return structuredClone(model)
}

/** Applies `op` to `model` in place, exactly as the client's SyncedDict/SyncedList would. */
export function applyOp(model: Model, op: Op): void {
  switch (op.k) {
    case 'set':
      model[op.key] = structuredClone(op.value)
      return
    case 'del':
      delete model[op.key]
      return
    case 'dset':
    case 'ddel': {
      const parent = dictAt(model[op.key], op.path.slice(0, -1))
      const field = op.path.at(-1)!
      if (op.k === 'dset') parent[field] = structuredClone(op.value)
      else delete parent[field]
      return
    }
    case 'push':
    case 'insert':
    case 'ldel':
    case 'move': {
      const list = model[op.key]
      if (!Array.isArray(list)) throw new Error(`model: ${op.key} is not a list`)
      if (op.k === 'push') list.push(structuredClone(op.item))
      else if (op.k === 'insert') list.splice(op.index, 0, structuredClone(op.item))
      else if (op.k === 'ldel') list.splice(op.index, 1)
      else list.splice(op.to, 0, ...list.splice(op.from, 1))
      return
    }
  }
}

function dictAt(value: Json | undefined, path: string[]): JsonObject {
  let node = value
  for (const field of path) node = isDict(node) ? node[field] : undefined
  if (!isDict(node)) throw new Error(`model: no dict at ${path.join('.')}`)
  return node
}

function isDict(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Chooses the next operation of writer `id` (its `seq`-th) on a memory whose keys are `model`. */
export function nextOp(id: string, seq: number, model: Model, prng: Prng): Op {
  const tag = `${id}-${seq}`
  const dictKey = `${id}_d`
  const listKey = `${id}_l`
  const dict = model[dictKey]
  const list = model[listKey]
  const item = (): Json => (prng.next() < 0.3 ? { i: tag } : tag)
  if (!isDict(dict) || !isDict(dict.sub)) {
    return { k: 'set', key: dictKey, value: { f0: tag, sub: { g0: tag } } }
  }
  if (!Array.isArray(list)) return { k: 'set', key: listKey, value: [item()] }
  const kind = prng.weighted({
    set: 12,
    del: 4,
    dset: 14,
    ddel: 5,
    push: list.length > MAX_LIST ? 0 : 18,
    insert: list.length > MAX_LIST ? 0 : 14,
    ldel: list.length === 0 ? 0 : list.length > MAX_LIST ? 60 : 12,
    move: list.length < 2 ? 0 : 10,
    reset: 1,
  })
  switch (kind) {
    case 'set': {
      const key = `${id}_${prng.pick(['a', 'b'])}`
      const value: Json = prng.next() < 0.25 ? { v: tag, n: seq } : tag
      return { k: 'set', key, value }
    }
    case 'del':
      return { k: 'del', key: `${id}_${prng.pick(['a', 'b'])}` }
    case 'dset':
    case 'ddel': {
      const nested = prng.next() < 0.4
      const path = nested ? ['sub', `g${prng.int(0, 2)}`] : [`f${prng.int(0, 3)}`]
      return kind === 'dset' ? { k: 'dset', key: dictKey, path, value: tag } : { k: 'ddel', key: dictKey, path }
    }
    case 'push':
      return { k: 'push', key: listKey, item: item() }
    case 'insert':
      return { k: 'insert', key: listKey, index: prng.int(0, list.length), item: item() }
    case 'ldel':
      return { k: 'ldel', key: listKey, index: prng.int(0, list.length - 1) }
    case 'move': {
      const from = prng.int(0, list.length - 1)
      let to = prng.int(0, list.length - 2)
      if (to >= from) to++
      return { k: 'move', key: listKey, from, to }
    }
    case 'reset':
      return prng.next() < 0.5
        ? { k: 'set', key: listKey, value: [item()] }
        : { k: 'set', key: dictKey, value: { f0: tag, sub: { g0: tag } } }
  }
}

/** The keys of `state` that belong to writer `id`. */
export function ownKeys(state: JsonObject, id: string): Model {
  const own: Model = {}
  for (const [key, value] of Object.entries(state)) {
    if (key.startsWith(`${id}_`)) own[key] = value
  }
  return own
}

/** JSON with object keys sorted, so that equal values print equal. */
export function canonical(value: Json | Model | undefined): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )
}
