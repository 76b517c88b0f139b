/**
 * A memory: one named namespace, mirrored locally as one Yjs document and synced
 * through the relay. It is the SyncedDict at the root, plus change subscriptions,
 * snapshots, transactions and sync status.
 */
import type * as Y from 'yjs'
import { AuthError, ClosedError, ValidationError } from './errors.ts'
import { changedDocument } from './model/MemoryDoc.ts'
import { keyPath } from './model/path.ts'
import { toJson } from './model/validate.ts'
import { dictSet } from './model/write.ts'
import { getRoot } from './model/layout.ts'
import type { JsonObject } from './model/layout.ts'
import { SnapshotCache } from './model/SnapshotCache.ts'
import { createViewContext } from './model/ViewContext.ts'
import type { MemorySync, MemoryStatus } from './MemorySync.ts'
import { Presence } from './Presence.ts'
import { SyncedDict } from './SyncedDict.ts'

export class Memory extends SyncedDict {
  readonly #sync: MemorySync
  readonly #snapshots: SnapshotCache
  readonly #listeners = new Set<() => void>()
  readonly #transact: <T>(fn: () => T) => T
  readonly #assertWritable: () => void
  readonly #assertOpen: () => void
  readonly #doc: Y.Doc
  readonly #state: { closed: boolean }
  #presence: Presence | null = null

  /** @internal Created by `client.memory(name)`. */
  constructor(
    /** The memory's name. */
    readonly name: string,
    sync: MemorySync,
  ) {
    const doc = sync.doc
    const state = { closed: false }
    const assertOpen = (): void => {
      if (state.closed) {
        throw new ClosedError(`memory "${name}" belongs to a closed client: open it from a new client`)
      }
    }
    const context = createViewContext(doc, {
      transact: (fn) => {
        let result!: ReturnType<typeof fn>
        doc.transact(() => {
          result = fn()
        })
        return result
      },
      assertWritable: () => {
        assertOpen()
        if (sync.access === 'read') {
          throw new AuthError(
            `memory "${name}" is read-only for this client: the relay granted read access; writing needs a token with write access`,
          )
        }
      },
    })
    super(getRoot(doc), context)
    this.#state = state
    this.#transact = context.transact
    this.#assertWritable = context.assertWritable
    this.#assertOpen = assertOpen
    this.#doc = doc
    this.#sync = sync
    this.#snapshots = new SnapshotCache(doc)
    doc.on('afterTransaction', this.#noteChange)
    doc.on('afterAllTransactions', this.#notify)
  }

  /**
   * Sets `key` to a JSON value. With `ttl` (ms), the key expires: its Redis projection gets
   * that expiry, and when it expires the key leaves the memory everywhere.
   * @example mem.set('session', { user: 'ada' }, { ttl: 60_000 })
   */
  override set(key: string, value: unknown, options?: { ttl?: number }): this {
    const ttl = options?.ttl
    if (ttl === undefined) return super.set(key, value)
    if (!Number.isFinite(ttl) || ttl <= 0) {
      throw new ValidationError(`ttl of "${key}" is ${String(ttl)}: give a positive number of milliseconds`, key)
    }
    this.#assertWritable()
    const json = toJson(value, keyPath('', key))
    const expiresAt = Date.now() + Math.ceil(ttl)
    this.#transact(() => dictSet(getRoot(this.#doc), key, json, expiresAt))
    return this
  }

  /** Whether a transaction changed the document since subscribers were last called. */
  #changed = false

  readonly #noteChange = (transaction: Y.Transaction): void => {
    if (!this.#changed && changedDocument(transaction)) this.#changed = true
  }

  /**
   * Calls the subscribers once the transactions under way are done (by then a local change is
   * queued): once for all that those transactions changed.
   */
  readonly #notify = (): void => {
    if (!this.#changed) return
    this.#changed = false
    if (this.#listeners.size === 0) return
    for (const listener of [...this.#listeners]) listener()
  }

  /**
   * Calls `listener` after every change, local or remote. Returns the unsubscribe.
   * @example const off = mem.subscribe(() => render(mem.getSnapshot()))
   */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * The whole memory as a frozen plain object. The same object until something changes;
   * after a change, unchanged subtrees keep their identity.
   */
  getSnapshot = (): JsonObject => this.#snapshots.snapshot()

  /**
   * Runs `fn` so that all its changes are one update (one message, one undo step).
   * @example mem.transact(() => { mem.set('a', 1); mem.delete('b') })
   */
  transact<T>(fn: () => T): T {
    return this.#transact(fn)
  }

  /** What the relay lets this client do: 'write', 'read' (writes throw AuthError), or null before it said. */
  get access(): 'read' | 'write' | null {
    return this.#sync.access
  }

  /** Resolves once every local change made so far is acknowledged (persisted) by the relay. */
  whenSynced(): Promise<void> {
    return this.#sync.whenSynced()
  }

  /** `{ connection, pending, lastSyncedAt, storage }`: a new frozen object whenever one of them changes. */
  get status(): MemoryStatus {
    return this.#sync.status
  }

  /** Calls `listener` whenever {@link status} changes. Returns the unsubscribe. */
  subscribeStatus = (listener: () => void): (() => void) => this.#sync.subscribeStatus(listener)

  /**
   * Who else has this memory open, and what they share about themselves (y-protocols
   * awareness; never stored). Created on first use, which announces this client with the
   * state `{}`; it leaves when the client closes or the page is hidden away.
   * @example
   * mem.presence.setState({ name: 'Ada', color: '#f60' })
   * mem.presence.subscribe(() => render(mem.presence.others)) // [{ clientId, state }]
   */
  get presence(): Presence {
    // Readers share presence too: only a closed memory refuses it.
    this.#assertOpen()
    if (this.#presence === null) {
      const sync = this.#sync
      this.#presence = new Presence(sync.doc, { send: (payload) => sync.sendAwareness(payload) })
      sync.attachPresence(this.#presence)
    }
    return this.#presence
  }

  /**
   * @internal The memory's Yjs document, for tools that work on documents (`@remem/react`'s
   * undo uses it for a `Y.UndoManager`). Write through the views, not through this.
   */
  get doc(): Y.Doc {
    return this.#sync.doc
  }

  /** @internal Stops syncing; used by `client.close()`. */
  async dispose(): Promise<void> {
    if (this.#state.closed) return
    this.#state.closed = true
    // Before the sync closes, so that others see this client leave at once.
    this.#presence?.destroy()
    this.#sync.doc.off('afterTransaction', this.#noteChange)
    this.#sync.doc.off('afterAllTransactions', this.#notify)
    this.#snapshots.destroy()
    await this.#sync.dispose()
  }
}
