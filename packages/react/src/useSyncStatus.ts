'use client'
import type { MemoryStatus } from '@remem/client'
import { useMemo, useSyncExternalStore } from 'react'
import { INITIAL_STATUS, clientStatus } from './ClientStatus.ts'
import { useClient, useMemory } from './useMemory.ts'

const noSubscription = (): (() => void) => () => {}
const initialStatus = (): MemoryStatus => INITIAL_STATUS

/**
 * The sync status of the memory called `name`: `connection` (`'online'` once its handshake
 * with the relay is done) and `pending` (local changes the relay has not yet acknowledged as
 * persisted). Without `name`, the status of every memory opened through the hooks of this
 * provider: the worst connection and the sum of pending changes.
 *
 * On the server, and until the provider has a client: `{ connection: 'connecting', pending: 0 }`.
 *
 * @example
 * const { connection, pending } = useSyncStatus('board')
 * return <span>{connection === 'online' && pending === 0 ? 'saved' : 'saving…'}</span>
 */
export function useSyncStatus(name?: string): MemoryStatus {
  const client = useClient('useSyncStatus')
  const memory = useMemory(name, 'useSyncStatus')
  const store = useMemo(() => {
    if (memory !== null) return { subscribe: memory.subscribeStatus, getSnapshot: () => memory.status }
    if (client !== null && name === undefined) return clientStatus(client)
    return { subscribe: noSubscription, getSnapshot: initialStatus }
  }, [client, memory, name])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, initialStatus)
}
