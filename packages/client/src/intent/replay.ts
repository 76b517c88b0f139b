/**
 * Carries recorded intent (Intent.ts) onto a memory's document in a new epoch, in order,
 * through the model's writers (call it inside one transaction: the result is one change).
 *
 * - `set`: written unless the key holds an entry written later (`w`), which wins as it would
 *   have against the original write; an entry this replay wrote (with the replay time) does
 *   not count, so intents of one key keep their order;
 * - `delete`: deletes the key unless its entry was written after the deleted one;
 *   a key already gone means the intent is met;
 * - `insert`: placed right after the item equal to its left neighbour nearest to where it
 *   was, else right before its right neighbour, else (list empty, or at its start or end)
 *   at the matching end;
 * - `remove`: removes the item equal to the removed value nearest to its index; none means
 *   it is already gone (met).
 * A path step into a list resolves the same way (an equal item nearest to its index). What
 * cannot be placed is returned as a conflict, never dropped silently.
 */
import type * as Y from 'yjs'
import { type DictEntry, encodeListItem, getRoot, scanDict, scanList, slotToJSON } from '../model/layout.ts'
import { dictDelete, dictSet, jsonEquals } from '../model/write.ts'
import { type Intent, type ItemRef, type PathStep, describePath } from './Intent.ts'

/** An intent that could not be carried over, and why. */
export interface Conflict {
  intent: Intent
  reason: string
}

type Node = { kind: 'dict' | 'list'; array: Y.Array<unknown> }

function winner(array: Y.Array<unknown>, key: string): DictEntry | undefined {
  return scanDict(array).entries.get(key)
}

/** The list item equal to `ref.value` nearest to `ref.index`, as [its index among items, its array index]. */
function findItem(array: Y.Array<unknown>, ref: ItemRef): { index: number; arrayIndex: number; kind: string; value: unknown } | null {
  const items = scanList(array)
  let best: number | null = null
  for (let i = 0; i < items.length; i++) {
    if (!jsonEquals(slotToJSON(items[i]!), ref.value)) continue
    if (best === null || Math.abs(i - ref.index) < Math.abs(best - ref.index)) best = i
  }
  if (best === null) return null
  const item = items[best]!
  return { index: best, arrayIndex: item.index, kind: item.kind, value: item.value }
}

function resolve(doc: Y.Doc, path: PathStep[]): Node | null {
  let node: Node = { kind: 'dict', array: getRoot(doc) }
  for (const step of path) {
    if (typeof step === 'string') {
      if (node.kind !== 'dict') return null
      const entry = winner(node.array, step)
      if (!entry || entry.kind === 'value') return null
      node = { kind: entry.kind, array: entry.value }
    } else {
      if (node.kind !== 'list') return null
      const found = findItem(node.array, step)
      if (!found || found.kind === 'value') return null
      node = { kind: found.kind as 'dict' | 'list', array: found.value as Y.Array<unknown> }
    }
  }
  return node
}

/** Applies `intents` in order to `doc`; returns those that could not be placed. */
export function replayIntents(doc: Y.Doc, intents: readonly Intent[]): Conflict[] {
  const conflicts: Conflict[] = []
  const conflict = (intent: Intent, reason: string): void => {
    conflicts.push({ intent, reason })
  }
  const written = new ReplayWrites()
  for (const intent of intents) {
    const node = resolve(doc, intent.path)
    if (!node) {
      // A removal inside something that is gone is met; anything else has nowhere to go.
      if (intent.op !== 'remove' && intent.op !== 'delete') {
        conflict(intent, `${describePath(intent.path)} no longer exists`)
      }
      continue
    }
    switch (intent.op) {
      case 'set': {
        if (node.kind !== 'dict') {
          conflict(intent, `${describePath(intent.path)} is no longer a dict`)
          break
        }
        const current = winner(node.array, intent.key)
        // A later write wins, as it would have; not one this replay made (an earlier intent's).
        if (current && current.writtenAt > intent.w && !written.has(node.array, intent.key)) break
        dictSet(node.array, intent.key, intent.value, intent.x)
        written.add(node.array, intent.key)
        break
      }
      case 'delete': {
        if (node.kind !== 'dict') break
        const current = winner(node.array, intent.key)
        if (current && (current.writtenAt <= intent.w || written.has(node.array, intent.key))) dictDelete(node.array, intent.key)
        break
      }
      case 'remove': {
        if (node.kind !== 'list') break
        const found = findItem(node.array, intent.item)
        if (found) node.array.delete(found.arrayIndex, 1)
        break
      }
      case 'insert': {
        if (node.kind !== 'list') {
          conflict(intent, `${describePath(intent.path)} is no longer a list`)
          break
        }
        const at = insertPosition(node.array, intent)
        if (at === null) {
          conflict(intent, `neither neighbour of the item inserted at ${describePath(intent.path, intent.index)} is there any more`)
          break
        }
        node.array.insert(at, [encodeListItem(intent.value)])
        break
      }
    }
  }
  return conflicts
}

/**
 * What this replay wrote. A replayed entry carries the replay time (later than its intent's
 * `w`), so a later intent of the same key must not lose to it: intents replay in their order.
 * A whole dict or list the replay wrote counts as written with everything inside it.
 */
class ReplayWrites {
  private readonly keys = new Map<Y.Array<unknown>, Set<string>>()
  private readonly arrays = new Set<Y.Array<unknown>>()

  has(array: Y.Array<unknown>, key: string): boolean {
    return this.arrays.has(array) || (this.keys.get(array)?.has(key) ?? false)
  }

  add(array: Y.Array<unknown>, key: string): void {
    let keys = this.keys.get(array)
    if (!keys) this.keys.set(array, (keys = new Set()))
    keys.add(key)
    const entry = winner(array, key)
    if (entry && entry.kind !== 'value') this.addTree(entry)
  }

  private addTree(slot: { kind: 'dict' | 'list'; value: Y.Array<unknown> }): void {
    this.arrays.add(slot.value)
    const children = slot.kind === 'dict' ? [...scanDict(slot.value).entries.values()] : scanList(slot.value)
    for (const child of children) if (child.kind !== 'value') this.addTree(child as { kind: 'dict' | 'list'; value: Y.Array<unknown> })
  }
}

/** Where an insert goes (an array index), or null when neither neighbour can be found. */
function insertPosition(array: Y.Array<unknown>, intent: Extract<Intent, { op: 'insert' }>): number | null {
  const items = scanList(array)
  if (intent.left === null) return items[0]?.index ?? array.length
  const left = findItem(array, intent.left)
  if (left) return left.arrayIndex + 1
  if (intent.right === null) return array.length
  const right = findItem(array, intent.right)
  if (right) return right.arrayIndex
  return items.length === 0 ? 0 : null
}
