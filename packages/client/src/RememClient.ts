/**
 * A connection to one relay and the memories opened through it.
 */
import {
  Connection,
  type ConnectionState,
  type HeartbeatOptions,
  type TokenSource,
  type WebSocketConstructor,
} from './connection/Connection.ts'
import type { BackoffOptions } from './connection/backoff.ts'
import { type NetworkMonitor, browserNetwork } from './connection/network.ts'
import {
  AuthError,
  ClosedError,
  ConnectionError,
  type StorageError,
  ValidationError,
} from './errors.ts'
import { ClientInspector } from './inspect/ClientInspector.ts'
import { Memory } from './Memory.ts'
import { MemoryDoc } from './model/MemoryDoc.ts'
import { MemorySync } from './MemorySync.ts'
import { FallbackStorage } from './offline/FallbackStorage.ts'
import { createIndexedDbStorage } from './offline/indexedDbStorage.ts'
import { createMemoryStorage } from './offline/memoryStorage.ts'
import type { StorageAdapter, StorageKind } from './offline/Storage.ts'
import { tabChannelName } from './offline/TabChannel.ts'
import { CloseCode, isValidMemoryName } from './protocol/messages.ts'

export type { TokenSource } from './connection/Connection.ts'

/** Options of `createClient`. */
export interface ClientOptions {
  /** The relay's WebSocket URL. @example 'ws://127.0.0.1:8787' */
  url: string
  /**
   * Credentials for relays that check them; a function is called again before every
   * (re)connect, and its latest result is kept.
   */
  token?: TokenSource
  /**
   * Where memories and unacknowledged changes are kept between sessions: `'indexeddb'`
   * (survives reloads, shared by the tabs of an origin), `'memory'` (this process only), or
   * an adapter. Where IndexedDB fails, the client falls back to memory: see
   * `onStorageFallback` and `status.storage`.
   * @default 'indexeddb' where `indexedDB` exists, else 'memory'
   */
  storage?: StorageKind | StorageAdapter
  /**
   * Share changes with other tabs of this origin over a BroadcastChannel at once, online
   * or offline.
   * @default true where BroadcastChannel exists and storage is IndexedDB
   */
  tabs?: boolean
  /**
   * The WebSocket implementation. Browsers have one; in Node 20 pass `ws`.
   * @example import WebSocket from 'ws'; createClient({ url, WebSocket })
   */
  WebSocket?: WebSocketConstructor | (abstract new (...args: never[]) => unknown)
  /** Reconnect delays: exponential with full jitter between 0 and the ceiling. */
  backoff?: BackoffOptions
  /**
   * How a dead connection is noticed: a PING after `intervalMs` of quiet must be answered
   * within `timeoutMs`. `false` turns it off.
   * @default { intervalMs: 3000, timeoutMs: 3000, connectTimeoutMs: 10000 }
   */
  heartbeat?: HeartbeatOptions | false
  /**
   * Ask before the page unloads while changes are not yet acknowledged (a `beforeunload`
   * listener, registered only while something is pending).
   * @default false
   */
  warnOnUnload?: boolean
  /**
   * Called once when storage failed (IndexedDB unavailable, blocked or over quota) and the
   * client switched to keeping changes in memory; `status.storage` becomes `'memory'`.
   * Changes keep syncing; they just no longer survive a reload.
   * @default console.warn
   */
  onStorageFallback?: (error: StorageError) => void
  /**
   * How long after acknowledgements or remote changes the stored document is rewritten
   * (and acknowledged changes leave the stored queue), in ms.
   * @default 1000
   */
  checkpointMs?: number
  /** @internal The platform's network events (tests). @default the browser's */
  network?: NetworkMonitor
  /** Called for errors that belong to no call: refused updates, storage failures. @default console.warn */
  onError?: (error: Error) => void
}

/** Sync state of a whole client. */
export interface ClientStatus {
  /** The relay connection: 'online' while the socket is open. */
  readonly connection: ConnectionState
  /** Local changes of every memory of this client that the relay has not acknowledged. */
  readonly pending: number
  /** Where unacknowledged changes are kept. */
  readonly storage: StorageKind
}

export class RememClient {
  readonly url: string
  /** @internal */
  readonly connection: Connection
  /** Random id of this client (this tab): it names the client's own queue in storage. */
  readonly clientId = randomId()
  /**
   * What devtools show: a timeline of connection events, each memory's pending queue, and
   * an offline switch (`client.inspector.setOffline(true)`). See `@remem/devtools`.
   */
  readonly inspector = new ClientInspector()
  private readonly memories = new Map<string, Memory>()
  private readonly syncs = new Map<string, MemorySync>()
  private readonly storage: FallbackStorage
  private readonly tabs: boolean
  private readonly onError: (error: Error) => void
  private readonly statusListeners = new Set<() => void>()
  private cachedStatus: ClientStatus
  private unloadListener: ((event: Event) => void) | null = null
  /** Removes the listener that stores due checkpoints when the page is hidden. */
  private readonly offPageHide: () => void
  private closed = false

  constructor(private readonly options: ClientOptions) {
    const WebSocketImpl = (options.WebSocket ??
      (globalThis as { WebSocket?: unknown }).WebSocket) as WebSocketConstructor | undefined
    if (!WebSocketImpl) {
      throw new ConnectionError(
        'no WebSocket implementation: in Node 20 pass one, e.g. `import WebSocket from "ws"; createClient({ url, WebSocket })`',
      )
    }
    this.url = options.url
    this.onError = options.onError ?? ((error) => console.warn(`[remem] ${error.message}`))
    const requested = options.storage ?? (typeof indexedDB === 'undefined' ? 'memory' : 'indexeddb')
    const adapter =
      requested === 'memory'
        ? createMemoryStorage()
        : requested === 'indexeddb'
          ? createIndexedDbStorage()
          : requested
    const onFallback =
      options.onStorageFallback ??
      ((error: StorageError) => console.warn(`[remem] ${error.message}`))
    this.storage = new FallbackStorage(adapter, (error) => {
      onFallback(error)
      for (const sync of this.syncs.values()) sync.refreshStatus()
      this.refreshStatus()
    })
    this.tabs =
      options.tabs ?? (adapter.kind === 'indexeddb' && typeof BroadcastChannel !== 'undefined')
    this.connection = new Connection({
      url: options.url,
      WebSocket: this.inspector.wrapWebSocket(WebSocketImpl),
      // A WebSocket passed in (`ws` in Node) may give Buffers; the platform's gives ArrayBuffers.
      nodeBuffers: WebSocketImpl !== (globalThis as { WebSocket?: unknown }).WebSocket,
      network: this.inspector.wrapNetwork(options.network ?? browserNetwork()),
      onBackoff: this.inspector.onBackoff,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.heartbeat !== undefined ? { heartbeat: options.heartbeat } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      onRelayClose: (code, reason) =>
        this.onError(
          code === CloseCode.unauthorized
            ? new AuthError(
                `relay refused the token (${code}): ${reason}; the client asks its token function again on the next connect`,
              )
            : new ConnectionError(`relay closed the connection (${code}): ${reason}`, code),
        ),
      onError: (error) =>
        this.onError(new ConnectionError(error.message, undefined, { cause: error })),
    })
    this.cachedStatus = Object.freeze({
      connection: this.connection.state,
      pending: 0,
      storage: this.storage.kind,
    })
    this.connection.subscribe(() => this.refreshStatus())
    this.inspector.useStorage(
      (name) => this.storage.open(this.url, name, this.clientId),
      () => this.storage.kind,
    )
    this.offPageHide = onPageHide(() => {
      for (const sync of this.syncs.values()) void sync.flush()
    })
  }

  /**
   * The memory called `name`: the same instance for the same name. Usable at once; it
   * shows what storage holds as soon as it is loaded, and syncs in the background.
   */
  memory(name: string): Memory {
    if (this.closed)
      throw new ClosedError('this client is closed: create a new one with createClient()')
    if (!isValidMemoryName(name)) {
      throw new ValidationError(
        `memory name ${JSON.stringify(name)} is not allowed: use 1 to 200 of A-Z a-z 0-9 _ . @ -`,
      )
    }
    let memory = this.memories.get(name)
    if (!memory) {
      const sync = new MemorySync({
        name,
        doc: new MemoryDoc({ gc: true }),
        connection: this.connection,
        storage: this.storage.open(this.url, name, this.clientId),
        storageKind: () => this.storage.kind,
        tabs: this.tabs
          ? { channel: tabChannelName(this.url, name), clientId: this.clientId }
          : null,
        checkpointMs: this.options.checkpointMs ?? 1000,
        onError: this.onError,
        onStatus: () => this.refreshStatus(),
      })
      memory = new Memory(name, sync)
      this.inspector.track(sync)
      this.memories.set(name, memory)
      this.syncs.set(name, sync)
    }
    return memory
  }

  /** `{ connection, pending, storage }` of the whole client: a new frozen object on every change. */
  get status(): ClientStatus {
    return this.cachedStatus
  }

  /** Calls `listener` whenever {@link status} changes. Returns the unsubscribe. */
  subscribeStatus = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener)
    return () => {
      this.statusListeners.delete(listener)
    }
  }

  private refreshStatus(): void {
    let pending = 0
    for (const sync of this.syncs.values()) pending += sync.status.pending
    const connection = this.connection.state
    const storage = this.storage.kind
    const current = this.cachedStatus
    if (
      connection !== current.connection ||
      pending !== current.pending ||
      storage !== current.storage
    ) {
      this.cachedStatus = Object.freeze({ connection, pending, storage })
      if (this.statusListeners.size > 0) for (const listener of [...this.statusListeners]) listener()
    }
    this.guardUnload(pending > 0 && !this.closed)
  }

  /** With `warnOnUnload`, a `beforeunload` listener exactly while changes are pending. */
  private guardUnload(pending: boolean): void {
    const scope = globalThis as {
      addEventListener?: (type: string, listener: (event: Event) => void) => void
      removeEventListener?: (type: string, listener: (event: Event) => void) => void
    }
    if (!this.options.warnOnUnload || typeof scope.addEventListener !== 'function') return
    if (pending && !this.unloadListener) {
      this.unloadListener = (event) => {
        event.preventDefault()
        try {
          // Older browsers show the prompt only when returnValue is set.
          ;(event as { returnValue?: unknown }).returnValue = ''
        } catch {
          // Read-only outside BeforeUnloadEvent; preventDefault is what counts.
        }
      }
      scope.addEventListener('beforeunload', this.unloadListener)
    } else if (!pending && this.unloadListener) {
      scope.removeEventListener?.('beforeunload', this.unloadListener)
      this.unloadListener = null
    }
  }

  /** Closes the connection and every memory; storage writes in flight complete first. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.guardUnload(false)
    this.offPageHide()
    await Promise.all([...this.memories.values()].map((memory) => memory.dispose()))
    this.connection.close()
  }
}

/** A random id; `crypto.getRandomValues` works outside secure contexts too. */
function randomId(): string {
  const bytes = new Uint8Array(12)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/**
 * Calls `listener` when the page is hidden or unloaded (the last moment it reliably runs,
 * e.g. before a mobile browser discards it). Returns the unsubscribe; nothing outside browsers.
 */
function onPageHide(listener: () => void): () => void {
  const scope = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void
    removeEventListener?: (type: string, listener: () => void) => void
    document?: { visibilityState?: string }
  }
  if (typeof scope.addEventListener !== 'function' || !scope.document) return () => {}
  const onVisibility = (): void => {
    if (scope.document?.visibilityState === 'hidden') listener()
  }
  scope.addEventListener('pagehide', listener)
  scope.addEventListener('visibilitychange', onVisibility)
  return () => {
    scope.removeEventListener?.('pagehide', listener)
    scope.removeEventListener?.('visibilitychange', onVisibility)
  }
}
