import { mergeDocs } from './mergeDocs.ts'
import type { MemoryStorage, QueueKey, StorageAdapter, StoredState } from './Storage.ts'

interface MemoryState {
  doc: Uint8Array | null
  /** Queued changes of every client by key (a number, unique in this memory), in insertion order. */
  queue: Map<number, Uint8Array>
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
        if (!found) states.set(id, (found = { doc: null, queue: new Map(), lastKey: 0 }))
        return found
      }
      const storage: MemoryStorage = {
        load: async (): Promise<StoredState> => {
          const { doc, queue } = state()
          return { doc, pending: [...queue].map(([key, update]) => ({ key, update })) }
        },
        append: (update) => {
          const current = state()
          const key = ++current.lastKey
          current.queue.set(key, update)
          return { key, written: WRITTEN }
        },
        checkpoint: async (doc, acknowledged: readonly QueueKey[]) => {
          const current = state()
          current.doc = current.doc ? mergeDocs(current.doc, doc) : doc
          for (const key of acknowledged) if (typeof key === 'number') current.queue.delete(key)
        },
        close: async () => {},
      }
      inProcess.add(storage)
      return storage
    },
  }
}
