/**
 * One client connection of each system behind one interface, so that the workloads are
 * the same code for all: a document with string/number values under keys, written with
 * `set`, read with `get`, observed with `onChange`.
 *
 * Acknowledgements differ (see `hasAck`): remem's resolves once the relay appended the
 * update to Redis (`whenSynced`), Hocuspocus' once the server applied it in memory (its
 * SyncStatus message, `unsyncedChanges` back to 0), the bare relay's once it forwarded the
 * frame. y-websocket has none: the workloads wait for a reader instead (see clientProcess.ts).
 */
import { HocuspocusProvider } from '@hocuspocus/provider'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { connect } from '../lib.ts'
import type { ServerKind } from './protocol.ts'

export type Value = string | number

export interface Conn {
  /** Resolves once the handshake is done and the server's state is loaded. */
  readonly synced: Promise<void>
  set(key: string, value: Value): void
  get(key: string): unknown
  /** Resolves once every `set` so far is acknowledged (systems with `hasAck` only). */
  whenAcked(): Promise<void>
  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: () => void): () => void
  close(): Promise<void>
}

/** Whether the system acknowledges updates to their writer. */
export const hasAck = (system: ServerKind): boolean => system !== 'ywebsocket'

/** Whether the server keeps the document (a fresh client can check what it holds). */
export const keepsState = (system: ServerKind): boolean => system !== 'bare'

/** Errors reported by the client libraries of this process (remem's clients keep their own). */
const errorLists: Error[][] = [[]]
const errors = errorLists[0]!
export const allErrors = (): Error[] => errorLists.flat()

function whenTrue(check: () => boolean, subscribe: (listener: () => void) => () => void): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve) => {
    const off = subscribe(() => {
      if (!check()) return
      off()
      resolve()
    })
  })
}

function rememConn(url: string, doc: string): Conn {
  const client = connect(url)
  errorLists.push(client.errors)
  const memory = client.memory(doc)
  return {
    synced: whenTrue(() => memory.status.connection === 'online', memory.subscribeStatus),
    set: (key, value) => memory.set(key, value),
    get: (key) => memory.get(key),
    whenAcked: () => memory.whenSynced(),
    onChange: (listener) => memory.subscribe(listener),
    close: () => client.close(),
  }
}

function yMapConn(doc: Y.Doc, synced: Promise<void>, whenAcked: () => Promise<void>, close: () => Promise<void>): Conn {
  const map = doc.getMap<Value>('m')
  return {
    synced,
    set: (key, value) => map.set(key, value),
    get: (key) => map.get(key),
    whenAcked,
    onChange: (listener) => {
      const observer = (): void => listener()
      map.observe(observer)
      return () => map.unobserve(observer)
    },
    close,
  }
}

function hocuspocusConn(url: string, name: string): Conn {
  const document = new Y.Doc()
  // The provider passes its whole configuration on to the socket it creates, polyfill included.
  const configuration = { url, name, document, WebSocketPolyfill: WebSocket }
  const provider = new HocuspocusProvider(configuration)
  const onEvent = (event: string) => (listener: () => void) => {
    provider.on(event, listener)
    return () => void provider.off(event, listener)
  }
  return yMapConn(
    document,
    whenTrue(() => provider.isSynced, onEvent('synced')),
    () => whenTrue(() => provider.unsyncedChanges === 0, onEvent('unsyncedChanges')),
    async () => {
      provider.destroy()
      document.destroy()
    },
  )
}

function yWebsocketConn(url: string, name: string): Conn {
  const document = new Y.Doc()
  const provider = new WebsocketProvider(url, name, document, { WebSocketPolyfill: WebSocket as never, disableBc: true })
  const synced = whenTrue(
    () => provider.synced,
    (listener) => {
      provider.on('sync', listener)
      return () => provider.off('sync', listener)
    },
  )
  return yMapConn(
    document,
    synced,
    () => Promise.reject(new Error('y-websocket has no acknowledgements')),
    async () => {
      provider.destroy()
      document.destroy()
    },
  )
}

const ACK = 0

function bareConn(url: string, name: string): Conn {
  const document = new Y.Doc()
  const socket = new WebSocket(`${url}/${encodeURIComponent(name)}`)
  let sent = 0
  let acked = 0
  const ackListeners = new Set<() => void>()
  document.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === socket) return
    sent++
    socket.send(update)
  })
  socket.on('message', (data: Buffer) => {
    if (data.length === 1 && data[0] === ACK) {
      acked++
      for (const listener of ackListeners) listener()
    } else {
      Y.applyUpdate(document, data, socket)
    }
  })
  socket.on('error', (error) => errors.push(error))
  const synced = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return yMapConn(
    document,
    synced,
    () =>
      whenTrue(
        () => acked === sent,
        (listener) => {
          ackListeners.add(listener)
          return () => ackListeners.delete(listener)
        },
      ),
    async () => {
      socket.close()
      document.destroy()
    },
  )
}

/** Opens one connection of `system` to `doc` on the server at `url`. */
export function open(system: ServerKind, url: string, doc: string): Conn {
  switch (system) {
    case 'remem':
      return rememConn(url, doc)
    case 'hocuspocus':
      return hocuspocusConn(url, doc)
    case 'ywebsocket':
      return yWebsocketConn(url, doc)
    case 'bare':
      return bareConn(url, doc)
  }
}

/** Resolves once `check()` holds, re-checking after each change of `conn`. */
export function waitFor(conn: Conn, check: () => boolean): Promise<void> {
  return whenTrue(check, conn.onChange)
}
