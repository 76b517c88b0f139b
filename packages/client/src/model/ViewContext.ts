/**
 * What every view of one memory shares: the document, how to write to it, and one cached
 * view per node, so that `mem.get('todos') === mem.get('todos')` while the node is the same.
 *
 * The view classes import only the type of {@link ViewContext}, and reach each other through
 * it; this file imports both classes. That keeps the module graph free of cycles.
 */
import type * as Y from 'yjs'
import { SyncedDict } from '../SyncedDict.ts'
import { SyncedList } from '../SyncedList.ts'
import type { JsonPrimitive, Slot } from './layout.ts'

/** What a synced view returns for a stored value: a primitive or a nested view. */
export type SyncedValue = JsonPrimitive | SyncedDict | SyncedList

/** The object shared by all views of one memory. */
export interface ViewContext {
  readonly doc: Y.Doc
  /** Runs `fn` in one document transaction (nested calls join the outer one). */
  transact<T>(fn: () => T): T
  /** Throws when the memory may not be written (for example, after it was closed). */
  assertWritable(): void
  /** The view of a dict's array, the same instance for the same array. */
  dictView(array: Y.Array<unknown>): SyncedDict
  /** The view of a list's array, the same instance for the same array. */
  listView(array: Y.Array<unknown>): SyncedList
  /** The public value of a decoded slot: the primitive, or the view of the nested node. */
  slotValue(slot: Slot): SyncedValue
}

/** Options of {@link createViewContext}. */
export interface ViewContextOptions {
  /**
   * Runs a write in a transaction; pass one that sets your transaction origin.
   * @default (fn) => doc.transact(fn)
   */
  transact?: <T>(fn: () => T) => T
  /**
   * Called before every write; throw to refuse it.
   * @default () => {}
   */
  assertWritable?: () => void
}

/**
 * Creates the context of the views of one document.
 *
 * @example
 * const doc = new Y.Doc()
 * const context = createViewContext(doc, { transact: (fn) => doc.transact(fn, origin) })
 * const root = new SyncedDict(getRoot(doc), context)
 */
export function createViewContext(doc: Y.Doc, options: ViewContextOptions = {}): ViewContext {
  const dicts = new WeakMap<Y.Array<unknown>, SyncedDict>()
  const lists = new WeakMap<Y.Array<unknown>, SyncedList>()
  const transact = options.transact ?? (<T>(fn: () => T): T => doc.transact(fn))
  const assertWritable = options.assertWritable ?? (() => {})
  const context: ViewContext = {
    doc,
    transact,
    assertWritable,
    dictView(array) {
      let view = dicts.get(array)
      if (!view) dicts.set(array, (view = new SyncedDict(array, context)))
      return view
    },
    listView(array) {
      let view = lists.get(array)
      if (!view) lists.set(array, (view = new SyncedList(array, context)))
      return view
    },
    slotValue(slot) {
      switch (slot.kind) {
        case 'value':
          return slot.value
        case 'dict':
          return context.dictView(slot.value)
        case 'list':
          return context.listView(slot.value)
      }
    },
  }
  return context
}
