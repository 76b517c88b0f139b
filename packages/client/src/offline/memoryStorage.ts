import type { MemoryStorage, PendingUpdate, StorageAdapter, StoredState } from './Storage.ts'

/**
 * Keeps memories in this process only: nothing survives a reload. Two clients given the
 * same adapter share what it holds, as two tabs share IndexedDB.
 */
export function createMemoryStorage(): StorageAdapter {
  const states = new Map<string, { doc: Uint8Array | null; pending: PendingUpdate[] }>()
  return {
    kind: 'memory',
    open(relayUrl, memory): MemoryStorage {
      const key = `${relayUrl}\n${memory}`
      const state = (): { doc: Uint8Array | null; pending: PendingUpdate[] } => {
        let found = states.get(key)
        if (!found) states.set(key, (found = { doc: null, pending: [] }))
        return found
      }
      return {
        load: async (): Promise<StoredState> => ({ doc: state().doc, pending: [...state().pending] }),
        append: async (entry) => {
          state().pending.push(entry)
        },
        acknowledge: async (upto) => {
          const s = state()
          s.pending = s.pending.filter((entry) => entry.seq > upto)
        },
        saveDoc: async (doc) => {
          state().doc = doc
        },
        close: async () => {},
      }
    },
  }
}
