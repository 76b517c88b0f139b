/**
 * The recorded intent of list changes (intent/record.ts) says exactly what changed, checked
 * against the list's JSON before and after each local transaction: every removed item at its
 * index before, every inserted item at its index after with its neighbours then, nothing
 * missing (the removals and insertions turn the old list into the new one), and each list
 * step of a path names the item it went through. Seeded random edits — single and batched,
 * nested, undone and redone — on lists that another peer edits too (tombstones and foreign
 * items between the local ones).
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import type { Intent, PathStep } from '../intent/Intent.ts'
import { recordIntent } from '../intent/record.ts'
import type { Json } from '../model/layout.ts'
import { SnapshotCache } from '../model/SnapshotCache.ts'
import type { SyncedDict } from '../SyncedDict.ts'
import type { SyncedList } from '../SyncedList.ts'
import { createViews, list, random } from './helpers/views.ts'

type ListIntent = Extract<Intent, { op: 'insert' | 'remove' }>

/** The JSON at `path` in `root`; with `check`, each list step must name the item it goes through. */
function at(root: Json, path: PathStep[], check = true): Json {
  let node = root
  for (const step of path) {
    if (typeof step === 'string') node = (node as Record<string, Json>)[step]!
    else {
      if (check)
        expect((node as Json[])[step.index], 'a list step of a path names its item').toEqual(
          step.value,
        )
      node = (node as Json[])[step.index]!
    }
  }
  return node
}

/** Checks the list intents of one path against the list before and after. */
function checkList(before: Json[], after: Json[], intents: ListIntent[]): void {
  const removes = intents.filter((intent) => intent.op === 'remove')
  const inserts = intents.filter((intent) => intent.op === 'insert')
  const rebuilt = [...before]
  removes.forEach((intent, i) => {
    expect(before[intent.item.index], 'a removed item is at its index before').toEqual(
      intent.item.value,
    )
    if (i > 0) expect(intent.item.index).toBeGreaterThan(removes[i - 1]!.item.index)
  })
  for (const intent of [...removes].reverse()) rebuilt.splice(intent.item.index, 1)
  inserts.forEach((intent, i) => {
    const { index } = intent
    expect(after[index], 'an inserted item is at its index after').toEqual(intent.value)
    expect(intent.left).toEqual(index === 0 ? null : { value: after[index - 1], index: index - 1 })
    expect(intent.right).toEqual(
      index === after.length - 1 ? null : { value: after[index + 1], index: index + 1 },
    )
    if (i > 0) expect(index).toBeGreaterThan(inserts[i - 1]!.index)
    rebuilt.splice(index, 0, intent.value)
  })
  expect(rebuilt, 'the removals and insertions make the new list').toEqual(after)
}

/** Runs `steps` random edits on a memory of `size` items; returns how many intents were checked. */
function run(seed: number, size: number, steps: number): number {
  const next = random(seed)
  const int = (below: number): number => Math.floor(next() * below)
  const local = createViews()
  const peer = createViews()
  let counter = 0
  const value = (): Json =>
    int(3) === 0 ? { n: counter++, inner: [counter++, counter++] } : counter++
  local.root.set('list', Array.from({ length: size }, value))
  Y.applyUpdate(peer.doc, Y.encodeStateAsUpdate(local.doc))
  const outbox: Uint8Array[] = []
  local.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'peer') outbox.push(update)
  })
  peer.doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'peer') Y.applyUpdate(local.doc, update, 'peer')
  })
  const undo = new Y.UndoManager(local.array, { captureTimeout: 0 })
  // Made before the listeners below, so that they see fresh snapshots.
  const snapshots = new SnapshotCache(local.doc)
  let before: Json = snapshots.snapshot()
  let recorded: Intent[] | null = null
  let checked = 0
  local.doc.on('beforeObserverCalls', (transaction: Y.Transaction) => {
    if (transaction.origin !== 'peer' && transaction.changed.size > 0)
      recorded = recordIntent(transaction)
  })
  local.doc.on('afterTransaction', () => {
    const after = snapshots.snapshot()
    const intents = recorded ?? []
    recorded = null
    const byPath = new Map<string, ListIntent[]>()
    for (const intent of intents) {
      at(before, intent.path)
      if (intent.op !== 'insert' && intent.op !== 'remove') continue
      const key = JSON.stringify(intent.path)
      byPath.set(key, [...(byPath.get(key) ?? []), intent])
    }
    for (const listIntents of byPath.values()) {
      const path = listIntents[0]!.path
      // A nested list is found after by the indexes before: only edits of one list per batch change indexes.
      checkList(at(before, path) as Json[], at(after, path, false) as Json[], listIntents)
    }
    checked += intents.length
    before = after
  })
  const top = (): SyncedList => list(local.root, 'list')
  /** The top list, or a list inside one of its items. */
  const someList = (): SyncedList => {
    const items = top()
    const item = items.length > 0 && int(3) === 0 ? items.get(int(items.length)) : undefined
    return item !== null && typeof item === 'object' && 'get' in item && !('length' in item)
      ? list(item, 'inner')
      : items
  }
  /** One edit of `items`; `inside` allows edits inside an item, which a batch must not make (the check compares whole items). */
  const edit = (items: SyncedList, inside = true): void => {
    const length = items.length
    const op = length === 0 ? 0 : int(9)
    if (op === 0) items.push(...Array.from({ length: 1 + int(3) }, value))
    else if (op === 1) items.insert(int(length + 1), ...Array.from({ length: 1 + int(3) }, value))
    else if (op === 2) items.delete(int(length))
    else if (op === 3) {
      const from = int(length)
      items.delete(from, 1 + int(Math.min(3, length - from)))
    } else if (op === 4) items.set(int(length), inside ? value() : counter++)
    else if (op === 5) items.move(int(length), int(length))
    else if (op === 6) items.pop()
    else if (op === 7) items.unshift(value())
    else {
      const item = items.get(int(length))
      if (
        inside &&
        item !== null &&
        typeof item === 'object' &&
        'set' in item &&
        !('length' in item)
      )
        (item as SyncedDict).set('n', counter++)
      else items.insert(int(length + 1), value())
    }
  }
  for (let step = 0; step < steps; step++) {
    const choice = int(10)
    if (choice === 0) {
      const items = list(peer.root, 'list')
      if (items.length > 0) items.delete(int(items.length))
      items.insert(int(items.length + 1), value())
    } else if (choice === 1) undo.undo()
    else if (choice === 2) undo.redo()
    else if (choice === 3)
      local.doc.transact(() => Array.from({ length: 2 + int(4) }, () => edit(top(), false)))
    else edit(someList())
    undo.stopCapturing()
    for (const update of outbox.splice(0)) Y.applyUpdate(peer.doc, update, 'peer')
  }
  return checked
}

describe('recorded intent of list changes', () => {
  it('names every removed and inserted item at its index, with its neighbours (seeded random edits)', () => {
    let checked = 0
    for (let seed = 1; seed <= 12; seed++) checked += run(seed, 5 + (seed % 4) * 15, 100)
    expect(checked).toBeGreaterThan(1_500)
  })

  it('does the same in a list of 1,000 items', () => {
    expect(run(99, 1_000, 100)).toBeGreaterThan(100)
  })

  it('names a nested item by its index before, when the same transaction removed and inserted items before it', () => {
    const { doc, root } = createViews()
    root.set('list', [0, 1, 2, 3, { n: 4 }])
    const items = list(root, 'list')
    let intents: Intent[] = []
    doc.on(
      'beforeObserverCalls',
      (transaction: Y.Transaction) => (intents = recordIntent(transaction)),
    )
    doc.transact(() => {
      items.delete(2) // 2
      items.delete(2) // 3: two removed items right before the dict
      items.insert(0, 'x')
      items.get<SyncedDict>(3)!.set('n', 5)
    })
    const item = { value: { n: 4 }, index: 4 }
    expect(intents).toEqual([
      { op: 'remove', path: ['list'], item: { value: 2, index: 2 } },
      { op: 'remove', path: ['list'], item: { value: 3, index: 3 } },
      {
        op: 'insert',
        path: ['list'],
        index: 0,
        value: 'x',
        left: null,
        right: { value: 0, index: 1 },
      },
      { op: 'set', path: ['list', item], key: 'n', value: 5, w: expect.any(Number) },
    ])
  })
})
