/**
 * Intent: what a local change meant, in terms of the memory's JSON, so that it can be
 * carried onto a new epoch (docs/DESIGN.md, "Epochs"). A Yjs update names items by id, and a
 * new epoch has none of the old ids; an intent names dict keys, and list items by their
 * value and position.
 */
import type { Json } from '../model/layout.ts'

/** A list item on a path: its JSON value (before the change) and its index then. */
export interface ItemRef {
  value: Json
  index: number
}

/** One step from the root to a nested dict or list: a dict key, or a list item. */
export type PathStep = string | ItemRef

/** One thing a local change did. */
export type Intent =
  /** `key` was written with `value` at time `w` (and expiry `x`). */
  | { op: 'set'; path: PathStep[]; key: string; value: Json; w: number; x?: number }
  /** `key` was deleted; it held an entry written at `w`. */
  | { op: 'delete'; path: PathStep[]; key: string; w: number }
  /** `value` was inserted at `index`, right after `left` (null: at the start) and before `right`. */
  | { op: 'insert'; path: PathStep[]; index: number; value: Json; left: ItemRef | null; right: ItemRef | null }
  /** The item `item` was removed. */
  | { op: 'remove'; path: PathStep[]; item: ItemRef }

/** A readable place for messages: `a.b[2].c`. */
export function describePath(path: PathStep[], last?: string | number): string {
  const steps = [...path, ...(last === undefined ? [] : [last])]
  let text = ''
  for (const step of steps) {
    if (typeof step === 'string') text += text === '' ? step : `.${step}`
    else if (typeof step === 'number') text += `[${step}]`
    else text += `[${step.index}]`
  }
  return text === '' ? '(root)' : text
}
