/**
 * Presence: who else has a memory open right now, and what each of them shares about
 * itself (a name, a colour, a cursor). It is a y-protocols `Awareness` on the memory's
 * document, carried in AWARENESS frames. Nothing of it is stored: a state lives while its
 * client is connected, and leaves everyone's view when the client closes, hides its page,
 * loses its connection, or stops renewing it (every 15 s) for 30 s.
 *
 * Local changes travel at once while the memory is connected; after every (re)connect the
 * current local state is sent again with a new clock, so the relay and the others always
 * hold the latest. While disconnected, the others are unknown: they are cleared, and the
 * relay sends them again after the next connect.
 */
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { ClosedError, ValidationError } from './errors.ts'
import type { JsonObject } from './model/layout.ts'
import { keyPath } from './model/path.ts'
import { toJson } from './model/validate.ts'

/** Another client's presence. */
export interface Peer<S extends JsonObject = JsonObject> {
  /** The other client's Yjs client id: stable while its page is open. */
  readonly clientId: number
  /** What it shares, as it last set it. */
  readonly state: S
}

/** Everything {@link Presence} shows at one moment; a new frozen object after every change. */
export interface PresenceSnapshot<S extends JsonObject = JsonObject> {
  /** This client's id (the id others see in their `others`). */
  readonly clientId: number
  /** This client's state; `null` once it left (closed, or its page is hidden away). */
  readonly self: S | null
  /** The other clients with this memory open, ordered by client id. */
  readonly others: readonly Peer<S>[]
}

/**
 * Largest presence state, in JSON characters. The relay refuses AWARENESS frames over
 * 64 KiB; this leaves room for the frame and for a few states in one frame.
 */
export const MAX_PRESENCE_CHARS = 32 * 1024

/** What presence needs from its memory's sync. */
export interface PresenceLink {
  /** Sends an AWARENESS payload if the memory is connected; returns whether it was sent. */
  send(payload: Uint8Array): boolean
}

/** Origin of states from the relay, and of their clearing after a disconnect. */
const RELAY_ORIGIN = Symbol('remem.presence.relay')
const LOCAL_ORIGIN = 'local'

export class Presence<S extends JsonObject = JsonObject> {
  /**
   * The y-protocols `Awareness` behind this presence, for editor bindings that take one
   * (cursors in y-codemirror, y-prosemirror). Prefer {@link setState} for plain use.
   */
  readonly awareness: Awareness
  readonly #link: PresenceLink
  readonly #listeners = new Set<() => void>()
  #snapshot: PresenceSnapshot<S>
  #open = false
  /** The state hidden by `pagehide`, put back by a `pageshow` from the back-forward cache. */
  #hidden: S | null = null
  #destroyed = false
  readonly #offPage: () => void

  /** @internal Created by `memory.presence`. */
  constructor(doc: Y.Doc, link: PresenceLink) {
    this.#link = link
    // Starts with the empty state `{}`: opening presence announces this client.
    this.awareness = new Awareness(doc)
    this.#snapshot = this.#build()
    this.awareness.on('update', this.#onUpdate)
    this.awareness.on('change', this.#onChange)
    this.#offPage = onPageLifecycle(this.#hide, this.#show)
  }

  /**
   * Merges `partial` into this client's state and shares it. Values must be JSON.
   * @example memory.presence.setState({ name: 'Ada', color: '#f60' })
   */
  setState(partial: Partial<S>): void {
    this.#assertAlive()
    const next: JsonObject = { ...(this.awareness.getLocalState() ?? {}) }
    for (const [key, value] of Object.entries(partial)) {
      if (value === undefined) delete next[key]
      else next[key] = toJson(value, keyPath('presence', key))
    }
    this.replaceState(next as S)
  }

  /**
   * Replaces this client's state; `null` leaves (others stop seeing this client until a
   * state is set again).
   */
  replaceState(state: S | null): void {
    this.#assertAlive()
    this.#hidden = null
    if (state === null) return this.awareness.setLocalState(null)
    const json = toJson(state, 'presence')
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ValidationError('presence state must be a plain object', 'presence')
    }
    const size = JSON.stringify(json).length
    if (size > MAX_PRESENCE_CHARS) {
      throw new ValidationError(
        `presence state is ${size} characters of JSON; at most ${MAX_PRESENCE_CHARS}: share ids, not documents`,
        'presence',
      )
    }
    this.awareness.setLocalState(json)
  }

  /** This client's state (`null` after leaving). */
  get self(): S | null {
    return this.#snapshot.self
  }

  /** The other clients with this memory open. */
  get others(): readonly Peer<S>[] {
    return this.#snapshot.others
  }

  /** This client's id, as others see it. */
  get clientId(): number {
    return this.awareness.clientID
  }

  /**
   * Calls `listener` after every change of {@link getSnapshot}. Returns the unsubscribe.
   * @example const off = memory.presence.subscribe(() => render(memory.presence.others))
   */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** `{ clientId, self, others }`, frozen; the same object until something changes. */
  getSnapshot = (): PresenceSnapshot<S> => this.#snapshot

  // --- wiring to the memory's sync ------------------------------------------------------

  /** @internal The memory's handshake started: share the current state again. */
  onOpen(): void {
    this.#open = true
    const state = this.awareness.getLocalState()
    // A new clock, so that the relay and the others take it even if they saw this one.
    if (state !== null) this.awareness.setLocalState(state)
  }

  /** @internal The connection is gone: nobody else is known until the relay says again. */
  onClose(): void {
    this.#open = false
    const others = [...this.awareness.meta.keys()].filter((id) => id !== this.clientId)
    if (others.length > 0) removeAwarenessStates(this.awareness, others, RELAY_ORIGIN)
    // Forget their clocks too: after the reconnect the relay sends the same states again,
    // at the same clocks, and y-protocols takes a state only at a newer clock than it knows.
    for (const id of others) this.awareness.meta.delete(id)
  }

  /** @internal An AWARENESS frame from the relay. */
  onMessage(payload: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, payload, RELAY_ORIGIN)
  }

  /** @internal Leaves (others see this client go) and stops; used when the memory closes. */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#offPage()
    // Sends the removal while the memory is still connected.
    this.awareness.destroy()
    this.#listeners.clear()
  }

  // --- internals ------------------------------------------------------------------------

  readonly #onUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    // Only this client's own state travels; the relay fans it out.
    if (origin !== LOCAL_ORIGIN || !this.#open) return
    const ids = [...changes.added, ...changes.updated, ...changes.removed]
    if (ids.length > 0) this.#link.send(encodeAwarenessUpdate(this.awareness, ids))
  }

  readonly #onChange = (): void => {
    this.#snapshot = this.#build()
    for (const listener of [...this.#listeners]) listener()
  }

  #build(): PresenceSnapshot<S> {
    const own = this.awareness.clientID
    const others: Peer<S>[] = []
    let self: S | null = null
    for (const [clientId, state] of this.awareness.getStates()) {
      const frozen = deepFreeze(state) as S
      if (clientId === own) self = frozen
      else others.push(Object.freeze({ clientId, state: frozen }))
    }
    others.sort((a, b) => a.clientId - b.clientId)
    return Object.freeze({ clientId: own, self, others: Object.freeze(others) })
  }

  readonly #hide = (): void => {
    if (this.#destroyed) return
    const state = this.awareness.getLocalState() as S | null
    if (state === null) return
    this.awareness.setLocalState(null)
    this.#hidden = state
  }

  readonly #show = (): void => {
    if (this.#destroyed || this.#hidden === null) return
    const state = this.#hidden
    this.#hidden = null
    this.awareness.setLocalState(state)
  }

  #assertAlive(): void {
    if (this.#destroyed) {
      throw new ClosedError(
        'this presence belongs to a closed client: open the memory from a new client',
      )
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  for (const item of Object.values(value)) deepFreeze(item)
  return Object.freeze(value)
}

/**
 * Calls `hide` on `pagehide` (the page is unloaded, or stored in the back-forward cache) and
 * `show` on a `pageshow` that restores it. Nothing outside browsers.
 */
function onPageLifecycle(hide: () => void, show: () => void): () => void {
  const scope = globalThis as {
    addEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void
    removeEventListener?: (type: string, listener: (event: { persisted?: boolean }) => void) => void
    document?: unknown
  }
  if (typeof scope.addEventListener !== 'function' || !scope.document) return () => {}
  const onShow = (event: { persisted?: boolean }): void => {
    if (event.persisted) show()
  }
  scope.addEventListener('pagehide', hide)
  scope.addEventListener('pageshow', onShow)
  return () => {
    scope.removeEventListener?.('pagehide', hide)
    scope.removeEventListener?.('pageshow', onShow)
  }
}
