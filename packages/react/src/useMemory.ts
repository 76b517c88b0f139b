'use client'
import type { Memory, RememClient } from '@remem/client'
import { useContext, useMemo } from 'react'
import { RememContext, type RememContextValue } from './RememContext.ts'

/** The provider's context; throws outside a provider, naming the hook. */
export function useRemem(hook: string): RememContextValue {
  const value = useContext(RememContext)
  if (value === undefined) {
    throw new Error(`${hook}() must be called inside a <RememProvider url="…">`)
  }
  return value
}

/**
 * The provider's client to render from: `null` while there is none yet (on the server, and
 * in the first render in the browser).
 */
export function useClient(hook: string): RememClient | null {
  return useRemem(hook).client
}

/**
 * The memory called `name` from the provider's client; `null` while there is no client yet,
 * or when `name` is undefined.
 */
export function useMemory(name: string | undefined, hook: string): Memory | null {
  const client = useClient(hook)
  return useMemo(
    () => (client === null || name === undefined ? null : client.memory(name)),
    [client, name],
  )
}
