'use client'
/**
 * Gives the hooks below it a client: a ready one (`client`), or one it creates from `url`
 * and owns. An owned client is created in an effect, so the server never connects and
 * StrictMode's double mount makes one socket, and it is closed after the provider unmounts.
 */
import { type ClientOptions, type RememClient, type TokenSource, createClient } from '@remem/client'
import { type ReactElement, type ReactNode, useCallback, useMemo, useRef, useState } from 'react'
import { ClientHolder } from './ClientHolder.ts'
import { RememContext } from './RememContext.ts'
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect.ts'

/** Props of {@link RememProvider} that make it create and own a client. */
export interface RememProviderUrlProps {
  /** The relay's WebSocket URL. @example 'ws://127.0.0.1:8787' */
  url: string
  /**
   * Credentials for relays that check them. A function is called on every (re)connect; a
   * changed token is used from the next reconnect on.
   */
  token?: TokenSource
  /**
   * The WebSocket implementation. Browsers have one; in Node pass `ws`.
   * @example import WebSocket from 'ws'; <RememProvider url={url} WebSocket={WebSocket}>
   */
  WebSocket?: ClientOptions['WebSocket']
  /**
   * Where memories and unacknowledged changes are kept between sessions (see `createClient`).
   * @default 'indexeddb' where `indexedDB` exists, else 'memory'
   */
  storage?: ClientOptions['storage']
  client?: undefined
  children?: ReactNode
}

/** Props of {@link RememProvider} that hand it a ready client, which it never closes. */
export interface RememProviderClientProps {
  /** A client made with `createClient`; the provider uses it and leaves closing it to you. */
  client: RememClient
  url?: undefined
  token?: undefined
  WebSocket?: undefined
  storage?: undefined
  children?: ReactNode
}

export type RememProviderProps = RememProviderUrlProps | RememProviderClientProps

/**
 * Makes a remem client available to `useSharedMemory`, `useSyncStatus` and `useUndo`.
 *
 * With `url`, it creates the client after mounting and closes it after unmounting; with
 * `client`, it uses yours and never closes it. On the server it never connects: the hooks
 * render the initial state (an empty memory, `connection: 'connecting'`).
 *
 * @example
 * <RememProvider url="ws://127.0.0.1:8787">
 *   <App />
 * </RememProvider>
 */
export function RememProvider(props: RememProviderProps): ReactElement {
  const { client: given, url, token, WebSocket, storage, children } = props
  if (given === undefined && url === undefined) {
    throw new TypeError('<RememProvider> needs a `url` (or a ready `client`)')
  }
  const tokenRef = useRef(token)
  useIsomorphicLayoutEffect(() => {
    tokenRef.current = token
  })
  const hasToken = token !== undefined

  const holder = useMemo(() => {
    if (given !== undefined || url === undefined) return null
    const options: ClientOptions = { url }
    if (WebSocket !== undefined) options.WebSocket = WebSocket
    if (storage !== undefined) options.storage = storage
    if (hasToken) options.token = () => resolveToken(tokenRef.current)
    return new ClientHolder(() => createClient(options))
  }, [given, url, WebSocket, storage, hasToken])

  // The owned client, tagged with its holder: after a change of url the old one is not used.
  const [owned, setOwned] = useState<{ holder: ClientHolder; client: RememClient } | null>(null)
  useIsomorphicLayoutEffect(() => {
    if (holder === null) return
    const client = holder.acquire()
    setOwned((prev) =>
      prev?.holder === holder && prev.client === client ? prev : { holder, client },
    )
    return () => holder.release()
  }, [holder])

  const client = given ?? (owned !== null && owned.holder === holder ? owned.client : null)
  const current = useCallback(() => given ?? holder?.current ?? null, [given, holder])
  const value = useMemo(() => ({ client, current }), [client, current])
  return <RememContext.Provider value={value}>{children}</RememContext.Provider>
}

function resolveToken(token: TokenSource | undefined): string | Promise<string> {
  if (typeof token === 'function') return token()
  return token ?? ''
}
