'use client'
import { type JsonObject, type RememClient, live } from '@remem/client'
import { useRef, useState, useSyncExternalStore } from 'react'
import { type Affected, TrackedProxies, isChanged } from './trackedProxy.ts'
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect.ts'
import { useMemory, useRemem } from './useMemory.ts'

/** The state before the memory is known, and on the server. */
const EMPTY: JsonObject = Object.freeze({})

const noSubscription = (): (() => void) => () => {}
const emptySnapshot = (): JsonObject => EMPTY

/**
 * The memory called `name` as a live object. Read it in render; write it in event handlers
 * and effects. The component re-renders only when something it read changes.
 *
 * Reads come from the snapshot of the last render (like React state): after a write, the
 * new value shows in the next render. Writes go to the memory at once, through the same
 * validation as `live(memory)`. Until the provider has a client (on the server, and in the
 * first render in the browser) the object is empty and writes throw.
 *
 * @example
 * type Board = { title?: string; todos?: Array<{ text: string; done: boolean }> }
 * function Todo({ index }: { index: number }) {
 *   const board = useSharedMemory<Board>('board')
 *   const todo = board.todos?.[index]       // re-renders when this todo changes, not others
 *   return <input checked={todo?.done ?? false} type="checkbox"
 *     onChange={(e) => { board.todos![index]!.done = e.target.checked }} />
 * }
 * // elsewhere: board.todos?.push({ text: 'new', done: false }); delete board.title
 */
export function useSharedMemory<T extends object = Record<string, unknown>>(name: string): T {
  const { current } = useRemem('useSharedMemory')
  const memory = useMemory(name, 'useSharedMemory')
  // The snapshot and reads of the last committed render: the base for bailing out.
  const committed = useRef<{ snapshot: JsonObject; affected: Affected } | null>(null)
  // What writes go to, looked up at each write: the provider's client may exist before a
  // render has shown it (effects of a first render), and handlers of older renders write here.
  const target = useRef({ current, name })
  const [proxies] = useState(() => new TrackedProxies(() => liveRoot(target.current)))

  let inRender = true
  let rendered: JsonObject | undefined = undefined
  const snapshot = useSyncExternalStore(
    memory ? memory.subscribe : noSubscription,
    () => {
      const next = memory ? memory.getSnapshot() : EMPTY
      // In render always the latest, so that what a render reads for the first time is fresh.
      if (inRender || next === rendered) return next
      // After a change: if nothing this component read differs, return the old snapshot so
      // that React bails out without rendering.
      const base = committed.current
      return base !== null && !isChanged(base.snapshot, next, base.affected) ? base.snapshot : next
    },
    emptySnapshot,
  )
  inRender = false
  rendered = snapshot

  const affected: Affected = new WeakMap()
  useIsomorphicLayoutEffect(() => {
    committed.current = { snapshot, affected }
    target.current = { current, name }
  })
  return proxies.root<T>(snapshot, affected)
}

function liveRoot(target: { current: () => RememClient | null; name: string }): object {
  const client = target.current()
  const name = target.name
  if (client === null) {
    throw new Error(
      `useSharedMemory('${name}') has no client yet (server render, or before the provider mounted): write in event handlers or effects (useEffect)`,
    )
  }
  return live(client.memory(name))
}
