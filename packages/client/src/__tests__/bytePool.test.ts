/**
 * A local change's storage envelope is a view of a shared buffer (offline/bytePool.ts); only
 * memory storage may keep such views. Any other storage (IndexedDB, an app's adapter) clones
 * what it gets, which would copy the whole shared buffer: it gets bytes of their own.
 */
import { describe, expect, it } from 'vitest'
import { createClient } from '../createClient.ts'
import { unwrap } from '../offline/envelope.ts'
import { allocatePooled, ownBuffer } from '../offline/bytePool.ts'
import { createMemoryStorage } from '../offline/memoryStorage.ts'
import type { MemoryStorage, StorageAdapter, StoredState } from '../offline/Storage.ts'
import { NeverOpenSocket } from './helpers/NeverOpenSocket.ts'

/** An app's storage adapter that keeps the arrays it is given, as they are. */
function recordingAdapter(kind: 'indexeddb' | 'memory'): { adapter: StorageAdapter; appended: Uint8Array[] } {
  const appended: Uint8Array[] = []
  const adapter: StorageAdapter = {
    kind,
    open(): MemoryStorage {
      return {
        load: async (): Promise<StoredState> => ({ doc: null, pending: [] }),
        append: (update) => {
          appended.push(update)
          return { key: appended.length, written: Promise.resolve() }
        },
        checkpoint: async () => {},
        close: async () => {},
      }
    },
  }
  return { adapter, appended }
}

function offlineClient(storage: StorageAdapter) {
  return createClient({ url: 'ws://127.0.0.1:9/never', WebSocket: NeverOpenSocket, storage, onError: () => {} })
}

describe('byte pool', () => {
  it('carves small arrays out of one buffer; ownBuffer copies only views', () => {
    const a = allocatePooled(100)
    const b = allocatePooled(100)
    expect(a.buffer).toBe(b.buffer)
    expect(a.byteLength).toBe(100)
    a.set([1, 2, 3])
    const own = ownBuffer(a)
    expect(own.buffer.byteLength).toBe(100)
    expect([...own.subarray(0, 3)]).toEqual([1, 2, 3])
    expect(ownBuffer(own)).toBe(own)
  })

  it.each(['indexeddb', 'memory'] as const)('an app adapter of kind %s gets each change in a buffer of its own', async (kind) => {
    const { adapter, appended } = recordingAdapter(kind)
    const client = offlineClient(adapter)
    const memory = client.memory('pooled')
    await memory.whenSynced().catch(() => {}) // not online: just lets the load finish
    // One change per task (the writes of one task are one change).
    for (let i = 0; i < 5; i++) {
      memory.set(`k${i}`, { v: i, ts: 'x'.repeat(80) })
      await Promise.resolve()
    }
    expect(appended).toHaveLength(5)
    for (const bytes of appended) {
      expect(bytes.byteOffset).toBe(0)
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength)
    }
    expect(unwrap(appended[4]!).intents).toEqual([
      { op: 'set', path: [], key: 'k4', value: { v: 4, ts: 'x'.repeat(80) }, w: expect.any(Number) },
    ])
    await client.close()
  })

  it('memory storage keeps the views, and a client loading them gets the same changes', async () => {
    const adapter = createMemoryStorage()
    const writer = offlineClient(adapter)
    const memory = writer.memory('shared')
    for (let i = 0; i < 20; i++) {
      memory.set(`k${i}`, i)
      await Promise.resolve()
    }
    const stored = await adapter.open('ws://127.0.0.1:9/never', 'shared', 'reader').load()
    expect(stored.pending).toHaveLength(20)
    expect(stored.pending.some((entry) => entry.update.buffer.byteLength > entry.update.byteLength)).toBe(true)
    await writer.close()
    const reader = offlineClient(adapter)
    const loaded = reader.memory('shared')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(loaded.getSnapshot()).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])))
    await reader.close()
  })
})
