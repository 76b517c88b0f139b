/**
 * The mark of a synced view. `SyncedDict`, `SyncedList` and their `live()` proxies answer
 * `value[SYNCED]()` with their plain JSON copy, so code that must recognise them (validation)
 * does not import the classes, which would make an import cycle.
 */
import type { Json } from './layout.ts'

/** Key of the method that returns a synced view's plain JSON copy. */
export const SYNCED: unique symbol = Symbol.for('remem.synced')

/** A value that carries the {@link SYNCED} method. */
export interface SyncedMarked {
  [SYNCED](): Json
}

/** Whether `value` is a synced view or a live proxy of one. */
export function isSyncedMarked(value: object): value is SyncedMarked {
  return typeof (value as Partial<SyncedMarked>)[SYNCED] === 'function'
}
