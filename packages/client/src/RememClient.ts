/**
 * A connection to one relay and the memories opened through it.
 */
import * as Y from 'yjs'
import { Connection, type WebSocketConstructor } from './connection/Connection.ts'
import type { BackoffOptions } from './connection/backoff.ts'
import { ClosedError, ConnectionError, ValidationError } from './errors.ts'
import { Memory } from './Memory.ts'
import { MemorySync } from './MemorySync.ts'
import { createMemoryStorage } from './offline/memoryStorage.ts'
import type { StorageAdapter } from './offline/Storage.ts'
import { isValidMemoryName } from './protocol/messages.ts'

/** A token, or a function called for one on every (re)connect. */
export type TokenSource = string | (() => string | Promise<string>)

/** Options of `createClient`. */
export interface ClientOptions {
  /** The relay's WebSocket URL. @example 'ws://127.0.0.1:8787' */
  url: string
  /** Credentials for relays that check them; a function is called again on every reconnect. */
  token?: TokenSource
  /**
   * Where memories are kept between sessions: `'memory'` (this process only) or an adapter.
   * @default 'memory'
   */
  storage?: 'memory' | StorageAdapter
  /**
   * The WebSocket implementation. Browsers have one; in Node 20 pass `ws`.
   * @example import WebSocket from 'ws'; createClient({ url, WebSocket })
   */
  WebSocket?: WebSocketConstructor | (abstract new (...args: never[]) => unknown)
  /** Reconnect delays: exponential with full jitter between 0 and the ceiling. */
  backoff?: BackoffOptions
  /** Called for errors that belong to no call: refused updates, storage failures. @default console.warn */
  onError?: (error: Error) => void
}

export class RememClient {
  readonly url: string
  /** @internal */
  readonly connection: Connection
  private readonly memories = new Map<string, Memory>()
  private readonly storage: StorageAdapter
  private readonly onError: (error: Error) => void
  private closed = false

  constructor(options: ClientOptions) {
    const WebSocketImpl = (options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as
      | WebSocketConstructor
      | undefined
    if (!WebSocketImpl) {
      throw new ConnectionError(
        'no WebSocket implementation: in Node 20 pass one, e.g. `import WebSocket from "ws"; createClient({ url, WebSocket })`',
      )
    }
    this.url = options.url
    this.onError = options.onError ?? ((error) => console.warn(`[remem] ${error.message}`))
    this.storage = options.storage === undefined || options.storage === 'memory' ? createMemoryStorage() : options.storage
    this.connection = new Connection({
      url: options.url,
      WebSocket: WebSocketImpl,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onRelayClose: (code, reason) =>
        this.onError(new ConnectionError(`relay closed the connection (${code}): ${reason}`, code)),
    })
  }

  /**
   * The memory called `name`: the same instance for the same name. Usable at once; it
   * syncs in the background.
   */
  memory(name: string): Memory {
    if (this.closed) throw new ClosedError('this client is closed: create a new one with createClient()')
    if (!isValidMemoryName(name)) {
      throw new ValidationError(
        `memory name ${JSON.stringify(name)} is not allowed: use 1 to 200 of A-Z a-z 0-9 _ . @ -`,
      )
    }
    let memory = this.memories.get(name)
    if (!memory) {
      const doc = new Y.Doc({ gc: true })
      const sync = new MemorySync(name, doc, this.connection, this.storage.open(this.url, name), this.onError)
      memory = new Memory(name, sync)
      this.memories.set(name, memory)
    }
    return memory
  }

  /** Closes the connection and every memory; storage writes in flight complete first. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.memories.values()].map((memory) => memory.dispose()))
    this.connection.close()
  }
}
