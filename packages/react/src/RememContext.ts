/**
 * The context the provider fills: the client its hooks use. `undefined` outside any
 * provider; `null` inside one that has no client yet (on the server, and in the first
 * render in the browser, before the provider's effect has created the client).
 */
import type { RememClient } from '@remem/client'
import { createContext } from 'react'

export const RememContext = createContext<RememClient | null | undefined>(undefined)
RememContext.displayName = 'RememContext'
