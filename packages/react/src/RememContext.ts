/**
 * The context the provider fills. `undefined` outside any provider.
 */
import type { RememClient } from '@remem/client'
import { createContext } from 'react'

export interface RememContextValue {
  /**
   * The client to render from: `null` on the server, and in the browser until the provider's
   * effect has created it.
   */
  readonly client: RememClient | null
  /**
   * The client now, for writes: it exists as soon as the provider's effect has run, which
   * is before the effects of a first render of the components below it.
   */
  readonly current: () => RememClient | null
}

export const RememContext = createContext<RememContextValue | undefined>(undefined)
RememContext.displayName = 'RememContext'
