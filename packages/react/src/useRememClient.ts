'use client'
import type { RememClient } from '@remem/client'
import { useClient } from './useMemory.ts'

/**
 * The client of the nearest `<RememProvider>`: the one it was given, or the one it created
 * from its `url`. `null` while there is none yet (on the server, and in the first render in
 * the browser of a provider that creates its client), then the client, re-rendering once.
 *
 * @throws Error outside a `<RememProvider>`.
 * @example
 * const client = useRememClient()
 * return client && <RememDevtools client={client} />
 */
export function useRememClient(): RememClient | null {
  return useClient('useRememClient')
}
