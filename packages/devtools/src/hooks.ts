/** Small hooks over the client's subscribable state (`useSyncExternalStore`). */
import type {
  ClientStatus,
  InspectorSnapshot,
  JsonObject,
  Memory,
  MemoryStatus,
  RememClient,
} from '@remem/client'
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react'

/** The client's timeline, offline switch and memory names. */
export function useInspector(client: RememClient): InspectorSnapshot {
  const { inspector } = client
  return useSyncExternalStore(inspector.subscribe, inspector.getSnapshot, inspector.getSnapshot)
}

/** The whole client's connection and pending count. */
export function useClientStatus(client: RememClient): ClientStatus {
  const get = useCallback(() => client.status, [client])
  return useSyncExternalStore(client.subscribeStatus, get, get)
}

/** The memory's value, as a frozen snapshot. */
export function useValue(memory: Memory): JsonObject {
  return useSyncExternalStore(memory.subscribe, memory.getSnapshot, memory.getSnapshot)
}

/** The memory's sync status. */
export function useStatus(memory: Memory): MemoryStatus {
  const get = useCallback(() => memory.status, [memory])
  return useSyncExternalStore(memory.subscribeStatus, get, get)
}

/** The time, renewed every `ms` while mounted (ages and rates follow it). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}

/** Bytes the memory takes in IndexedDB (null with memory storage), read again when `key` changes. */
export function useStoredBytes(client: RememClient, name: string, key: unknown): number | null {
  const [bytes, setBytes] = useState<number | null>(null)
  useEffect(() => {
    let current = true
    client.inspector.storedBytes(name).then(
      (value) => current && setBytes(value),
      () => current && setBytes(null),
    )
    return () => {
      current = false
    }
  }, [client, name, key])
  return bytes
}
