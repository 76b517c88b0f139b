/**
 * Issue 11 (access cost) and issue 12 (client hot path): what one call costs on a memory of
 * 10 to 10,000 keys or list items, against a plain `Y.Map` / `Y.Array` doing the same.
 *
 * The writer is a real `Memory` of an offline client (its changes queue in memory storage,
 * as in use before a relay answers). The reader of the last table is the model alone — a
 * `Y.Doc` with the views and the snapshot cache a `Memory` uses — given each update the way
 * `MemorySync` applies a relay's frame, so the figure is the model's cost, not the socket's.
 */
import * as Y from 'yjs'
import { type SyncedList, createClient } from '@remem/client'
import { getRoot } from '../packages/client/src/model/layout.ts'
import { MemoryDoc } from '../packages/client/src/model/MemoryDoc.ts'
import { SnapshotCache } from '../packages/client/src/model/SnapshotCache.ts'
import { createViewContext } from '../packages/client/src/model/ViewContext.ts'
import { type Cell, type Suite, cpuNow, mainThreadCpuNow, median, now, round } from './lib.ts'
import { NeverOpenSocket } from '../packages/client/src/__tests__/helpers/NeverOpenSocket.ts'

/** Sizes measured; `REMEM_BENCH_MODEL_SIZES=10,100` picks others (the scanning code needs minutes at 10,000). */
const SIZES = (process.env.REMEM_BENCH_MODEL_SIZES ?? '10,100,1000,10000').split(',').map(Number)
/** Samples per figure (the median is printed); each sample runs for at least SAMPLE_MS. */
const SAMPLES = 5
const SAMPLE_MS = 200

/** A fast seeded generator, so that every run touches the same keys and positions. */
function prng(seed = 1): (below: number) => number {
  let state = seed >>> 0
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state % below
  }
}

/**
 * How long each figure's calls run untimed first, so that the JIT has compiled them and the heap
 * has grown to its working size (as in a page in use): the first 100 ms of calls cost up to 4×.
 */
const WARM_UP_MS = 500 // of CPU time

/** CPU microseconds per call: of the main thread alone, and of the whole process (GC threads included). */
interface PerCall {
  main: number
  all: number
}

/**
 * CPU microseconds per call of `op`: the median of SAMPLES samples of at least SAMPLE_MS each,
 * after WARM_UP_MS. `main` is what the main thread spent (`mainThreadCpuNow`: a page's main
 * thread, as the issue's wall-clock figures measured on an idle machine); `all` adds the
 * threads that mark and scavenge the heap beside it (`cpuNow`).
 */
function perCall(op: (i: number) => void, batch = 1): PerCall {
  let i = 0
  // CPU time, so that a loaded machine (where this process gets a share of a core) warms as long.
  const warmUntil = cpuNow() + WARM_UP_MS
  while (cpuNow() < warmUntil) for (let b = 0; b < batch; b++) op(i++)
  const main: number[] = []
  const all: number[] = []
  for (let s = 0; s < SAMPLES; s++) {
    let calls = 0
    const t0 = now()
    const cpu0 = cpuNow()
    const main0 = mainThreadCpuNow()
    do {
      for (let b = 0; b < batch; b++) op(i++)
      calls += batch
    } while (now() - t0 < SAMPLE_MS)
    main.push(((mainThreadCpuNow() - main0) * 1000) / calls)
    all.push(((cpuNow() - cpu0) * 1000) / calls)
  }
  return { main: median(main), all: median(all) }
}

/**
 * Microseconds per call of `op` when each batch of `count` calls must be undone (untimed)
 * before the next, so that a list keeps its size: inserts, deletes, pushes.
 */
function perCallUndone(count: number, op: (i: number) => void, undo: () => void): number {
  const samples: number[] = []
  for (let s = 0; s < SAMPLES + 1; s++) {
    let calls = 0
    let elapsed = 0
    while (elapsed < SAMPLE_MS) {
      const t0 = mainThreadCpuNow()
      for (let i = 0; i < count; i++) op(i)
      elapsed += mainThreadCpuNow() - t0
      calls += count
      undo()
    }
    if (s > 0) samples.push((elapsed * 1000) / calls) // the first sample warms up
  }
  return median(samples)
}

function offlineClient(): ReturnType<typeof createClient> {
  return createClient({ url: 'ws://127.0.0.1:9/never', WebSocket: NeverOpenSocket, storage: 'memory', onError: () => {} })
}

async function dictRow(size: number): Promise<{ row: Cell[]; figures: Record<string, number> }> {
  const keys = Array.from({ length: size }, (_, i) => `k${i}`)
  const client = offlineClient()
  try {
    const memory = client.memory(`model-dict-${size}`)
    memory.transact(() => keys.forEach((key, i) => memory.set(key, i)))
    const doc = new Y.Doc()
    const map = doc.getMap<number>('root')
    doc.transact(() => keys.forEach((key, i) => map.set(key, i)))
    let pick = prng()
    const get = perCall(() => memory.get(keys[pick(size)]!), 64).main
    pick = prng()
    const mapGet = perCall(() => map.get(keys[pick(size)]!), 64).main
    pick = prng()
    const { main: set, all: setAllThreads } = perCall((i) => memory.set(keys[pick(size)]!, size + i))
    const bare = new MemoryDoc()
    const bareRoot = createViewContext(bare).dictView(getRoot(bare))
    bareRoot.update(Object.fromEntries(keys.map((key, i) => [key, i])))
    pick = prng()
    const modelSet = perCall((i) => bareRoot.set(keys[pick(size)]!, size + i)).main
    pick = prng()
    const mapSet = perCall((i) => map.set(keys[pick(size)]!, size + i)).main
    pick = prng()
    const setSnapshot = perCall((i) => {
      memory.set(keys[pick(size)]!, 2 * size + i)
      memory.getSnapshot()
    }).main
    if (Object.keys(memory.getSnapshot()).length !== size) throw new Error('the memory lost keys')
    const figures = { get, mapGet, set, setAllThreads, modelSet, mapSet, setSnapshot }
    return {
      row: [size, round(get, 2), round(mapGet, 2), round(set, 1), round(setAllThreads, 1), round(modelSet, 1), round(mapSet, 1), round(setSnapshot, 1)],
      figures,
    }
  } finally {
    await client.close()
  }
}

async function listRow(size: number): Promise<{ row: Cell[]; figures: Record<string, number> }> {
  const client = offlineClient()
  try {
    const memory = client.memory(`model-list-${size}`)
    memory.set('list', Array.from({ length: size }, (_, i) => i))
    const list = memory.get<SyncedList>('list')!
    const doc = new Y.Doc()
    const array = doc.getArray<number>('list')
    array.insert(0, Array.from({ length: size }, (_, i) => i))
    const batch = Math.min(100, size)
    let pick = prng()
    const get = perCall(() => list.get(pick(size)), 64).main
    pick = prng()
    const arrayGet = perCall(() => array.get(pick(size)), 64).main
    pick = prng()
    const set = perCall((i) => list.set(pick(size), -i)).main
    pick = prng()
    const insert = perCallUndone(
      batch,
      (i) => list.insert(pick(size + i), -1),
      () => list.delete(size, list.length - size),
    )
    pick = prng()
    const arrayInsert = perCallUndone(
      batch,
      (i) => array.insert(pick(size + i), [-1]),
      () => array.delete(size, array.length - size),
    )
    pick = prng()
    list.push(...Array.from({ length: batch }, () => 0))
    const remove = perCallUndone(
      batch,
      (i) => list.delete(pick(size + batch - i)),
      () => list.push(...Array.from({ length: size + batch - list.length }, () => 0)),
    )
    list.delete(size, list.length - size)
    const push = perCallUndone(
      batch,
      (i) => list.push(i),
      () => list.delete(size, list.length - size),
    )
    if (list.length !== size) throw new Error(`the list has ${list.length} items, not ${size}`)
    const figures = { get, arrayGet, set, insert, arrayInsert, delete: remove, push }
    return {
      row: [size, round(get, 2), round(arrayGet, 2), round(set, 1), round(insert, 1), round(arrayInsert, 1), round(remove, 1), round(push, 1)],
      figures,
    }
  } finally {
    await client.close()
  }
}

/** Remote updates made (untimed) per batch for `remoteRow`. */
const FRESH_BATCH = 200

/** A reader's cost for one remote update of one key: apply, notify, next snapshot. */
function remoteRow(size: number): { row: Cell[]; figures: Record<string, number> } {
  const keys = Array.from({ length: size }, (_, i) => `k${i}`)
  const writer = new Y.Doc()
  const writerViews = createViewContext(writer)
  const writerRoot = writerViews.dictView(getRoot(writer))
  writerRoot.update(Object.fromEntries(keys.map((key, i) => [key, i])))
  const reader = new MemoryDoc()
  Y.applyUpdate(reader, Y.encodeStateAsUpdate(writer))
  const readerRoot = createViewContext(reader).dictView(getRoot(reader))
  const snapshots = new SnapshotCache(reader)
  let snapshot = snapshots.snapshot()
  reader.on('afterAllTransactions', () => {
    snapshot = snapshots.snapshot()
  })
  // Each update is applied once, made (untimed) in batches before it is needed: the figure is
  // the reader's work only, and never a re-applied update (a no-op for Yjs).
  const pick = prng()
  const made: Uint8Array[] = []
  writer.on('update', (update: Uint8Array) => made.push(update))
  let value = size
  const makeUpdates = (doc: () => void): Uint8Array[] => {
    made.length = 0
    for (let i = 0; i < FRESH_BATCH; i++) doc()
    return made.splice(0)
  }
  let updates = makeUpdates(() => writerRoot.set(keys[pick(size)]!, value++))
  const apply = perCallUndone(
    FRESH_BATCH,
    (i) => Y.applyUpdate(reader, updates[i]!, 'remote'),
    () => (updates = makeUpdates(() => writerRoot.set(keys[pick(size)]!, value++))),
  )
  if (readerRoot.size !== size || Object.keys(snapshot).length !== size) throw new Error('the reader lost keys')
  // The same on a Y.Map (no snapshot: Y.Map has none).
  const mapWriter = new Y.Doc()
  const map = mapWriter.getMap<number>('root')
  mapWriter.transact(() => keys.forEach((key, i) => map.set(key, i)))
  const mapReader = new Y.Doc()
  Y.applyUpdate(mapReader, Y.encodeStateAsUpdate(mapWriter))
  mapWriter.on('update', (update: Uint8Array) => made.push(update))
  const mapPick = prng()
  let mapUpdates = makeUpdates(() => map.set(keys[mapPick(size)]!, value++))
  const mapApply = perCallUndone(
    FRESH_BATCH,
    (i) => Y.applyUpdate(mapReader, mapUpdates[i]!, 'remote'),
    () => (mapUpdates = makeUpdates(() => map.set(keys[mapPick(size)]!, value++))),
  )
  if (mapReader.getMap('root').size !== size) throw new Error('the map reader lost keys')
  return { row: [size, round(apply, 1), round(mapApply, 1)], figures: { applyAndSnapshot: apply, mapApply } }
}

const READERS = 1_000

/**
 * Issue 12's client side: 1,000 readers of one memory (of `size` keys) in this process, each
 * applying every update, notifying its subscriber and taking the next snapshot. Returns ms
 * per update for all readers together: under 10 ms, one process keeps up with 100 updates/s.
 */
function readersRow(size: number): { row: Cell[]; figures: Record<string, number> } {
  const keys = Array.from({ length: size }, (_, i) => `k${i}`)
  const writer = new Y.Doc()
  const writerRoot = createViewContext(writer).dictView(getRoot(writer))
  writerRoot.update(Object.fromEntries(keys.map((key, i) => [key, i])))
  const initial = Y.encodeStateAsUpdate(writer)
  let snapshots = 0
  const readers = Array.from({ length: READERS }, () => {
    const doc = new MemoryDoc()
    Y.applyUpdate(doc, initial)
    const cache = new SnapshotCache(doc)
    cache.snapshot()
    doc.on('afterAllTransactions', () => {
      cache.snapshot()
      snapshots++
    })
    return doc
  })
  const updates: Uint8Array[] = []
  writer.on('update', (update: Uint8Array) => updates.push(update))
  const pick = prng()
  const rounds = 40
  for (let i = 0; i < rounds + 3; i++) writerRoot.set(keys[pick(size)]!, { value: i, ts: i })
  const times: number[] = []
  updates.forEach((update, i) => {
    const t0 = now()
    for (const reader of readers) Y.applyUpdate(reader, update, 'remote')
    if (i >= 3) times.push(now() - t0) // the first rounds warm up
  })
  if (snapshots !== READERS * updates.length) throw new Error('a reader missed an update')
  const ms = median(times)
  // The same on plain Y.Map readers (apply only: a Y.Map has no snapshot).
  const mapWriter = new Y.Doc()
  const map = mapWriter.getMap<unknown>('root')
  mapWriter.transact(() => keys.forEach((key, i) => map.set(key, i)))
  const mapInitial = Y.encodeStateAsUpdate(mapWriter)
  const mapReaders = Array.from({ length: READERS }, () => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, mapInitial)
    return doc
  })
  const mapUpdates: Uint8Array[] = []
  mapWriter.on('update', (update: Uint8Array) => mapUpdates.push(update))
  const mapPick = prng()
  for (let i = 0; i < rounds + 3; i++) map.set(keys[mapPick(size)]!, { value: i, ts: i })
  const mapTimes: number[] = []
  mapUpdates.forEach((update, i) => {
    const t0 = now()
    for (const reader of mapReaders) Y.applyUpdate(reader, update, 'remote')
    if (i >= 3) mapTimes.push(now() - t0)
  })
  const mapMs = median(mapTimes)
  return {
    row: [size, round(ms, 1), round(1000 / ms), round(mapMs, 1)],
    figures: { msPerUpdate: ms, updatesPerSecond: 1000 / ms, mapMsPerUpdate: mapMs },
  }
}

export const model: Suite = {
  name: 'model',
  issue: 11,
  title: 'cost per access of dicts and lists, and of a remote update on a reader',
  async run(ctx) {
    const figures: Record<string, unknown> = { dict: {}, list: {}, remote: {}, readers: {} }
    const dictRows: Cell[][] = []
    const listRows: Cell[][] = []
    const remoteRows: Cell[][] = []
    const readerRows: Cell[][] = []
    for (const size of SIZES) {
      ctx.progress(`model: ${size} keys`)
      const dict = await dictRow(size)
      dictRows.push(dict.row)
      ctx.progress(`model: dict ${size}: ${dict.row.join(' | ')}`)
      ;(figures.dict as Record<string, unknown>)[size] = dict.figures
      ctx.progress(`model: ${size} list items`)
      const list = await listRow(size)
      listRows.push(list.row)
      ctx.progress(`model: list ${size}: ${list.row.join(' | ')}`)
      ;(figures.list as Record<string, unknown>)[size] = list.figures
      ctx.progress(`model: remote updates on ${size} keys`)
      const remote = remoteRow(size)
      remoteRows.push(remote.row)
      ctx.progress(`model: remote ${size}: ${remote.row.join(' | ')}`)
      ;(figures.remote as Record<string, unknown>)[size] = remote.figures
      if (size <= 1_000) {
        ctx.progress(`model: ${READERS} readers of ${size} keys`)
        const readers = readersRow(size)
        readerRows.push(readers.row)
        ctx.progress(`model: readers ${size}: ${readers.row.join(' | ')}`)
        ;(figures.readers as Record<string, unknown>)[size] = readers.figures
      }
    }
    const how = `CPU µs per call of the main thread (user + system, GC pauses included), median of ${SAMPLES} samples of ≥ ${SAMPLE_MS} ms after ${WARM_UP_MS} ms of warm-up; random keys / positions`
    return {
      tables: [
        {
          title: 'dict access (root of a memory, primitive values)',
          columns: ['keys', 'remem get', 'Y.Map.get', 'remem set', 'remem set, all threads', 'set (model only)', 'Y.Map.set', 'remem set + getSnapshot'],
          rows: dictRows,
          notes: [
            how,
            'remem set: on a Memory, including the offline client queueing the update, as in use',
            'remem set, all threads: the same calls counted with the GC threads that mark and scavenge beside the main thread (process CPU)',
            'set (model only): the same views on a bare Y.Doc, without the client around them',
          ],
        },
        {
          title: 'list access (a list of numbers in a memory)',
          columns: ['items', 'get(i)', 'Y.Array.get', 'set(i)', 'insert(i)', 'Y.Array.insert', 'delete(i)', 'push'],
          rows: listRows,
          notes: [how, 'insert/delete/push: batches of min(100, items) calls, undone between batches'],
        },
        {
          title: 'reader: apply a remote 1-key update + getSnapshot',
          columns: ['keys', 'remem apply + getSnapshot', 'Y.Map apply'],
          rows: remoteRows,
          notes: [
            `${how}; the model of a Memory (doc, views, snapshot cache), not the socket`,
            'the snapshot is taken when the document\'s transactions are done (afterAllTransactions), where a Memory calls its subscribers',
          ],
        },
        {
          title: `${READERS.toLocaleString('en-US')} readers in one process: one update reaching all of them`,
          columns: ['keys', 'ms per update (all readers)', 'updates/s one process keeps up with', 'Y.Map readers, ms'],
          rows: readerRows,
          notes: [
            'each reader: apply the update, notify, take the next snapshot (the model of a Memory); median of 40 updates',
            'an update writes { value, ts } to one key; 100 updates/s needs ≤ 10 ms here',
          ],
        },
      ],
      figures,
    }
  },
}
