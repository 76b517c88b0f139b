/**
 * The `Y.Doc` of a memory: a `Y.Doc` whose events cost nothing when nobody listens.
 *
 * Yjs emits about nine events per transaction (`beforeTransaction`, `afterTransaction`,
 * `update`, …), most of them without a listener here. lib0's `emit` copies the listeners of
 * each into a fresh array (from a fresh empty map when there are none) before calling them:
 * a sixth of a dict `set`'s cost at 1,000 keys, with its garbage. This `emit` does the same
 * calls in the same order, with the same guarantee (a listener added or removed while an
 * event is emitted does not change who receives that event), and allocates only when an event
 * has several listeners.
 */
import * as Y from 'yjs'

export class MemoryDoc extends Y.Doc {
  override emit(name: string, args: unknown[]): void {
    const listeners: Set<(...args: unknown[]) => void> | undefined = this._observers.get(name)
    if (listeners === undefined) return
    if (listeners.size === 1) {
      for (const listener of listeners) {
        listener(...args)
        return
      }
    }
    for (const listener of Array.from(listeners)) listener(...args)
  }
}

/**
 * Whether `transaction` changed the document: deleted something or added content. The
 * condition on which Yjs emits `update`, for listeners of `afterTransaction`, which Yjs
 * emits after every transaction (no-ops included) without encoding anything.
 */
export function changedDocument(transaction: Y.Transaction): boolean {
  if (transaction.deleteSet.clients.size > 0) return true
  for (const [client, clock] of transaction.afterState) {
    if (transaction.beforeState.get(client) !== clock) return true
  }
  return false
}
