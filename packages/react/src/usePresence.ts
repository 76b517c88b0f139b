'use client'
import type { JsonObject, Memory, Peer, Presence, PresenceSnapshot } from '@remem/client'
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import { useMemory, useRemem } from './useMemory.ts'

/** What {@link usePresence} returns. */
export interface PresenceControls<S extends JsonObject = JsonObject> {
  /** The other clients with the memory open, ordered by client id: `[{ clientId, state }]`. */
  readonly others: readonly Peer<S>[]
  /** This client's state, `null` before presence is open (on the server, first render). */
  readonly self: S | null
  /** This client's id as others see it; `null` before presence is open. */
  readonly clientId: number | null
  /**
   * Merges `partial` into this client's state and shares it. Call it in event handlers and
   * effects; it throws when the provider has no client yet (on the server).
   */
  readonly setState: (partial: Partial<S>) => void
}

/** Shown on the server and until presence is open. */
const EMPTY: PresenceSnapshot = Object.freeze({
  clientId: 0,
  self: null,
  others: Object.freeze([]),
})
const noSubscription = (): (() => void) => () => {}
const emptySnapshot = (): PresenceSnapshot => EMPTY

/**
 * Opens presence in the effect that subscribes, not in render: opening announces the client.
 */
class PresenceStore {
  #presence: Presence | null = null
  constructor(private readonly memory: Memory) {}

  subscribe = (listener: () => void): (() => void) => {
    this.#presence ??= this.memory.presence
    return this.#presence.subscribe(listener)
  }

  getSnapshot = (): PresenceSnapshot => this.#presence?.getSnapshot() ?? EMPTY
}

const stores = new WeakMap<Memory, PresenceStore>()

function presenceStore(memory: Memory): PresenceStore {
  let store = stores.get(memory)
  if (!store) {
    store = new PresenceStore(memory)
    stores.set(memory, store)
  }
  return store
}

/**
 * Who else has the memory called `name` open, and what they share (names, colours,
 * cursors); nothing of it is stored. Mounting it announces this client (with the state
 * `{}` until `setState`); it leaves when the client closes or the page goes away, and a
 * closed tab disappears from everyone's `others` within seconds. Re-renders when anyone's
 * presence changes. On the server: no one, `self` null.
 *
 * @example
 * const { others, setState } = usePresence<{ name: string }>('board')
 * useEffect(() => setState({ name: 'Ada' }), [setState])
 * return <>{others.map((peer) => <Avatar key={peer.clientId} name={peer.state.name} />)}</>
 */
export function usePresence<S extends JsonObject = JsonObject>(name: string): PresenceControls<S> {
  const { current } = useRemem('usePresence')
  const memory = useMemory(name, 'usePresence')
  const store = memory === null ? null : presenceStore(memory)
  const snapshot = useSyncExternalStore(
    store ? store.subscribe : noSubscription,
    store ? store.getSnapshot : emptySnapshot,
    emptySnapshot,
  ) as PresenceSnapshot<S>
  // Looks the client up at the call: in a first render's effects it exists before a render showed it.
  const setState = useCallback(
    (partial: Partial<S>) => {
      const client = current()
      if (client === null) {
        throw new Error(
          `usePresence('${name}').setState has no client yet (server render, or before the provider mounted): call it in event handlers or effects`,
        )
      }
      ;(client.memory(name).presence as unknown as Presence<S>).setState(partial)
    },
    [current, name],
  )
  return useMemo(
    () => ({
      others: snapshot.others,
      self: snapshot.self,
      clientId: snapshot === EMPTY ? null : snapshot.clientId,
      setState,
    }),
    [snapshot, setState],
  )
}
