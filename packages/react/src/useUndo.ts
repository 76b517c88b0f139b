'use client'
import { useMemo, useSyncExternalStore } from 'react'
import { NOTHING_TO_UNDO, type UndoState, undoStore } from './UndoStore.ts'
import { useMemory } from './useMemory.ts'

/** What {@link useUndo} returns. */
export interface UndoControls extends UndoState {
  /** Reverts this client's last edit of the memory that is not undone yet, everywhere. */
  undo: () => void
  /** Re-applies the last undone edit. */
  redo: () => void
}

const noSubscription = (): (() => void) => () => {}
const nothingToUndo = (): UndoState => NOTHING_TO_UNDO
const nothing = (): void => {}

/**
 * Undo and redo of this client's own edits of the memory called `name`. Edits by other
 * clients are never undone; edits made before the first `useUndo` of the memory mounted are
 * not in the history. Each write (or each `memory.transact`) is one step. Components using
 * `useUndo` of one memory share one history.
 *
 * @example
 * const { undo, redo, canUndo, canRedo } = useUndo('board')
 * return <button disabled={!canUndo} onClick={undo}>Undo</button>
 */
export function useUndo(name: string): UndoControls {
  const memory = useMemory(name, 'useUndo')
  const store = memory === null ? null : undoStore(memory)
  const state = useSyncExternalStore(
    store ? store.subscribe : noSubscription,
    store ? store.getSnapshot : nothingToUndo,
    nothingToUndo,
  )
  return useMemo(
    () => ({
      undo: store ? () => void store.undo() : nothing,
      redo: store ? () => void store.redo() : nothing,
      canUndo: state.canUndo,
      canRedo: state.canRedo,
    }),
    [store, state],
  )
}
