/**
 * Memories in IndexedDB (through idb-keyval), shared by every tab of an origin.
 *
 * One object store, `remem` / `memories`, with array keys:
 *
 *   [relayUrl, memory, 'doc']                     the local document (a Yjs update)
 *   [relayUrl, memory, 'q', clientId, n]          change n of client (tab) clientId, unacknowledged
 *
 * Each client appends under its own random id, so tabs never write the same key. Loading
 * reads the document and every client's queue in one transaction. A checkpoint merges the
 * stored document with the caller's (read and written in one transaction, so concurrent
 * checkpoints of two tabs never lose each other's content) and deletes acknowledged
 * changes in the same transaction.
 */
import { type UseStore, createStore, promisifyRequest } from 'idb-keyval'
import { mergeDocs } from './mergeDocs.ts'
import type {
  MemoryStorage,
  QueueKey,
  StorageAdapter,
  StoredState,
  StoredUpdate,
} from './Storage.ts'

/** Options of {@link createIndexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** The IndexedDB database name. @default 'remem' */
  database?: string
}

const OBJECT_STORE = 'memories'
const stores = new Map<string, UseStore>()

/** One connection per database and page, so that every write of the page is ordered. */
function storeFor(database: string): UseStore {
  let store = stores.get(database)
  if (!store) stores.set(database, (store = createStore(database, OBJECT_STORE)))
  return store
}

/**
 * Keeps memories in IndexedDB: they survive reloads and are shared by the tabs of an
 * origin. Operations reject where IndexedDB is unavailable or full; the client then
 * falls back to memory (see `onStorageFallback`).
 */
export function createIndexedDbStorage(options: IndexedDbStorageOptions = {}): StorageAdapter {
  const database = options.database ?? 'remem'
  return {
    kind: 'indexeddb',
    open(relayUrl, memory, clientId): MemoryStorage {
      const docKey = [relayUrl, memory, 'doc']
      // Every key [relayUrl, memory, 'q', …]: arrays sort after strings and numbers.
      const queueRange = (): IDBKeyRange =>
        IDBKeyRange.bound([relayUrl, memory, 'q'], [relayUrl, memory, 'q', []])
      let counter = 0
      let inFlight = new Set<Promise<unknown>>()

      const run = <T>(
        mode: IDBTransactionMode,
        body: (store: IDBObjectStore) => Promise<T>,
      ): Promise<T> => {
        let result: Promise<T>
        try {
          // idb-keyval opens the database lazily; `indexedDB.open` can throw synchronously.
          result = storeFor(database)(mode, body)
        } catch (error) {
          result = Promise.reject(error instanceof Error ? error : new Error(String(error)))
        }
        const tracked = result.catch(() => undefined)
        inFlight.add(tracked)
        void tracked.then(() => inFlight.delete(tracked))
        return result
      }

      return {
        load: () =>
          run('readonly', async (store): Promise<StoredState> => {
            const doc = store.get(docKey) as IDBRequest<Uint8Array | undefined>
            const keys = store.getAllKeys(queueRange())
            const values = store.getAll(queueRange()) as IDBRequest<Uint8Array[]>
            await promisifyRequest(store.transaction)
            const pending: StoredUpdate[] = []
            keys.result.forEach((key, index) => {
              const update = values.result[index]
              if (update instanceof Uint8Array) pending.push({ key: key as QueueKey, update })
            })
            return { doc: doc.result instanceof Uint8Array ? doc.result : null, pending }
          }),
        append: (update) => {
          const key = [relayUrl, memory, 'q', clientId, ++counter]
          const written = run('readwrite', (store) => {
            store.put(ownBytes(update), key)
            // Commit now rather than when control returns to the event loop: a tab closed
            // right after the edit still gets it to disk.
            ;(store.transaction as { commit?: () => void }).commit?.()
            return promisifyRequest(store.transaction)
          })
          return { key, written }
        },
        checkpoint: (doc, acknowledged) =>
          run('readwrite', (store) => {
            const stored = store.get(docKey) as IDBRequest<Uint8Array | undefined>
            stored.onsuccess = () => {
              let merged = doc
              if (stored.result instanceof Uint8Array) {
                try {
                  merged = mergeDocs(stored.result, doc)
                } catch {
                  // An unreadable stored document: ours replaces it.
                }
              }
              store.put(ownBytes(merged), docKey)
            }
            for (const key of acknowledged) store.delete(key as IDBValidKey)
            return promisifyRequest(store.transaction)
          }),
        close: async () => {
          const waiting = inFlight
          inFlight = new Set()
          await Promise.all(waiting)
        },
      }
    },
  }
}

/** A copy when `bytes` is a view into a larger buffer (IndexedDB would store all of it). */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice()
}
