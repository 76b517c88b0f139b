'use client'
import type { Memory, RememClient } from '@remem/client'
import { useContext, useMemo } from 'react'
import { openMemory } from './ClientStatus.ts'
import { RememContext } from './RememContext.ts'

/**
 * The provider's client: `null` while there is none yet (on the server, and in the first
 * render in the browser). Throws outside a provider, naming the hook.
 */
export function useClient(hook: string): RememClient | null {
  const client = useContext(RememContext)
  if (client === undefined) {
    throw new Error(`${hook}() must be called inside a <RememProvider url="…">`)
  }
  return client
}

/**
 * The memory called `name` from the provider's client; `null` while there is no client yet,
 * or when `name` is undefined.
 */
export function useMemory(name: string | undefined, hook: string): Memory | null {
  const client = useClient(hook)
  return useMemo(
    () => (client === null || name === undefined ? null : openMemory(client, name)),
    [client, name],
  )
}
