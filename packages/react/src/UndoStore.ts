/**
 * One `Y.UndoManager` per memory, shared by every `useUndo` of it, alive while anyone
 * subscribes. It tracks transactions with origin `null` (edits made through this client's
 * views) and its own (undo and redo); changes from the relay and from storage carry another
 * origin, so they are never undone. When the memory moves to a new epoch (a fresh document,
 * docs/DESIGN.md "Epochs") the history is cleared: it names items the new document lacks.
 */
import type { Memory } from '@remem/client'
import * as Y from 'yjs'

/** Whether there is something to undo and to redo. */
export interface UndoState {
  readonly canUndo: boolean
  readonly canRedo: boolean
}

const STATES: readonly (readonly UndoState[])[] = [
  [
    Object.freeze({ canUndo: false, canRedo: false }),
    Object.freeze({ canUndo: false, canRedo: true }),
  ],
  [
    Object.freeze({ canUndo: true, canRedo: false }),
    Object.freeze({ canUndo: true, canRedo: true }),
  ],
]

/** Nothing to undo or redo. */
export const NOTHING_TO_UNDO: UndoState = STATES[0]![0]!

const STACK_EVENTS = [
  'stack-item-added',
  'stack-item-popped',
  'stack-cleared',
  'stack-item-updated',
] as const

export class UndoStore {
  readonly #memory: Memory
  readonly #listeners = new Set<() => void>()
  #manager: Y.UndoManager | null = null
  #stopClearing: (() => void) | null = null
  #destroyTimer: ReturnType<typeof setTimeout> | null = null

  constructor(memory: Memory) {
    this.#memory = memory
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    if (this.#destroyTimer !== null) clearTimeout(this.#destroyTimer)
    this.#destroyTimer = null
    this.#manager ??= this.#create()
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      // Wait a moment: StrictMode and quick remounts keep the history.
      this.#destroyTimer = setTimeout(() => {
        this.#destroyTimer = null
        this.#manager?.destroy()
        this.#manager = null
        this.#stopClearing?.()
        this.#stopClearing = null
      }, 100)
    }
  }

  getSnapshot = (): UndoState => {
    const manager = this.#manager
    if (manager === null) return NOTHING_TO_UNDO
    return STATES[Number(manager.canUndo())]![Number(manager.canRedo())]!
  }

  /** Reverts this client's last edit not yet undone; returns whether there was one. */
  undo = (): boolean => (this.#manager?.undo() ?? null) !== null

  /** Re-applies the last undone edit; returns whether there was one. */
  redo = (): boolean => (this.#manager?.redo() ?? null) !== null

  #create(): Y.UndoManager {
    // The document holds only the memory's root, so its scope is the root's. Each
    // transaction is one step (captureTimeout 0), as `memory.transact` promises; empty
    // transactions are not steps.
    const manager = new Y.UndoManager(this.#memory.doc, {
      captureTimeout: 0,
      captureTransaction: (transaction) => transaction.changedParentTypes.size > 0,
    })
    for (const event of STACK_EVENTS) manager.on(event, this.#notify)
    // 'remem:epoch' is remem's own event (replaceDocument), not in Yjs' event types.
    const doc = this.#memory.doc as unknown as {
      on(name: string, f: () => void): void
      off(name: string, f: () => void): void
    }
    const clear = (): void => manager.clear()
    doc.on('remem:epoch', clear)
    this.#stopClearing = () => doc.off('remem:epoch', clear)
    return manager
  }

  readonly #notify = (): void => {
    for (const listener of [...this.#listeners]) listener()
  }
}

const stores = new WeakMap<Memory, UndoStore>()

/** The undo store of `memory`. */
export function undoStore(memory: Memory): UndoStore {
  let store = stores.get(memory)
  if (!store) {
    store = new UndoStore(memory)
    stores.set(memory, store)
  }
  return store
}
