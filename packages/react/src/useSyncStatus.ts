'use client'
import type { ConnectionState } from '@remem/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useClient, useMemory } from './useMemory.ts'

/** Sync state of a memory or of a whole client. */
export interface SyncStatus {
  /**
   * `'online'` when connected (for a memory: once its handshake with the relay is done),
   * `'connecting'` before that, `'offline'` between reconnect attempts.
   */
  readonly connection: ConnectionState
  /** Local changes that the relay has not acknowledged as persisted yet. */
  readonly pending: number
}

/** The status before there is a client, and on the server. */
const INITIAL: SyncStatus = Object.freeze({ connection: 'connecting', pending: 0 })

const noSubscription = (): (() => void) => () => {}
const initialStatus = (): SyncStatus => INITIAL

/**
 * The sync status of the memory called `name`, or without `name` of the whole client (its
 * socket, and the pending changes of all its memories). Re-renders when it changes.
 *
 * On the server, and until the provider has a client: `{ connection: 'connecting', pending: 0 }`.
 *
 * @example
 * const { connection, pending } = useSyncStatus('board')
 * return <span>{connection === 'online' && pending === 0 ? 'saved' : 'saving…'}</span>
 */
export function useSyncStatus(name?: string): SyncStatus {
  const client = useClient('useSyncStatus')
  const memory = useMemory(name, 'useSyncStatus')
  const store = useMemo(() => {
    if (memory !== null)
      return { subscribe: memory.subscribeStatus, getSnapshot: () => memory.status }
    if (client !== null && name === undefined) {
      return { subscribe: client.subscribeStatus, getSnapshot: () => client.status }
    }
    return { subscribe: noSubscription, getSnapshot: initialStatus }
  }, [client, memory, name])
  return useSyncExternalStore(store.subscribe, store.getSnapshot, initialStatus)
}
