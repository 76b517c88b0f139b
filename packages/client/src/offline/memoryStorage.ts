import { mergeDocs } from './mergeDocs.ts'
import type { MemoryStorage, QueueKey, StorageAdapter, StoredState } from './Storage.ts'

interface MemoryState {
  doc: Uint8Array | null
  /**
   * The queued changes of every client, in insertion order, and their keys (numbers unique
   * in this memory, ascending): two arrays rather than a map, a few bytes per change.
   */
  keys: number[]
  updates: Uint8Array[]
  /** The last key given out. */
  lastKey: number
}

/** The storages opened here: they keep what they are given in this process. */
const inProcess = new WeakSet<MemoryStorage>()

/**
 * Whether `storage` is a memory storage of this module, which keeps the bytes it is given
 * as they are (so that they may be views of a shared buffer, see bytePool.ts).
 */
export function keepsBytesInProcess(storage: MemoryStorage): boolean {
  return inProcess.has(storage)
}

/** Removes the queued changes of `doomed` (keys of other storages are none of these). */
function removeKeys(state: MemoryState, doomed: readonly QueueKey[]): void {
  if (doomed.length === 0) return
  const removed = new Set(doomed)
  let kept = 0
  for (let i = 0; i < state.keys.length; i++) {
    if (removed.has(state.keys[i]!)) continue
    state.keys[kept] = state.keys[i]!
    state.updates[kept++] = state.updates[i]!
  }
  state.keys.length = state.updates.length = kept
}

/** Every append is written at once. */
const WRITTEN = Promise.resolve()

/**
 * Keeps memories in this process only: nothing survives a reload. Two clients given the
 * same adapter share what it holds, as two tabs share IndexedDB.
 */
export function createMemoryStorage(): StorageAdapter {
  const states = new Map<string, MemoryState>()
  return {
    kind: 'memory',
    open(relayUrl, memory): MemoryStorage {
      const id = `${relayUrl}\n${memory}`
      const state = (): MemoryState => {
        let found = states.get(id)
        if (!found) states.set(id, (found = { doc: null, keys: [], updates: [], lastKey: 0 }))
        return found
      }
      const storage: MemoryStorage = {
        load: async (): Promise<StoredState> => {
          const { doc, keys, updates } = state()
          return { doc, pending: keys.map((key, i) => ({ key, update: updates[i]! })) }
        },
        append: (update) => {
          const current = state()
          const key = ++current.lastKey
          current.keys.push(key)
          current.updates.push(update)
          return { key, written: WRITTEN }
        },
        checkpoint: async (doc, acknowledged: readonly QueueKey[]) => {
          const current = state()
          current.doc = current.doc ? mergeDocs(current.doc, doc) : doc
          removeKeys(current, acknowledged)
        },
        close: async () => {},
      }
      inProcess.add(storage)
      return storage
    },
  }
}
