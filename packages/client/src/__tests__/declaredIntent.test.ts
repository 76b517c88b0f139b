/**
 * A write's declared intent (intent/declared.ts) gives what reading its transaction gives
 * (record.ts): `recordIntent` equals `readIntent` for every local transaction of seeded random
 * writes on a memory that a peer writes too (its concurrent writes of the same keys leave
 * losers, which the next local set deletes). And a declaration is taken only for a
 * transaction that is one primitive `set` of a dict key and nothing else.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { declaredSet } from '../intent/declared.ts'
import type { Intent } from '../intent/Intent.ts'
import { readIntent, recordIntent } from '../intent/record.ts'
import { dictDelete, dictSet } from '../model/write.ts'
import type { SyncedDict } from '../SyncedDict.ts'
import { createViews, dict, list, random, syncAll } from './helpers/views.ts'

interface Tally {
  /** Transactions that were one declared write of a root key, and of a nested dict's key. */
  root: number
  nested: number
  /** Transactions with no declaration to take. */
  read: number
}

/** Runs `steps` random writes; checks every local transaction; returns how they were declared. */
function run(seed: number, steps: number): Tally {
  const next = random(seed)
  const int = (below: number): number => Math.floor(next() * below)
  const local = createViews()
  const peer = createViews()
  local.root.set('nested', { a: 1, deep: { b: 1 } })
  local.root.set('items', [{ c: 1 }, { c: 2 }])
  syncAll([local.doc, peer.doc])
  const tally: Tally = { root: 0, nested: 0, read: 0 }
  local.doc.on('beforeObserverCalls', (transaction: Y.Transaction) => {
    if (transaction.origin === 'peer' || transaction.changed.size === 0) return
    const declared = declaredSet(transaction)
    const recorded = recordIntent(transaction)
    expect(recorded, `seed ${seed}: the recorded intent is the one read`).toEqual(
      readIntent(transaction),
    )
    if (declared === null) tally.read++
    else if (declared.array === local.array) tally.root++
    else tally.nested++
  })
  const undo = new Y.UndoManager(local.array, { captureTimeout: 0 })
  const key = (): string => `k${int(6)}`
  const primitive = (): string | number | boolean | null =>
    [int(100), `s${int(100)}`, int(2) === 0, null][int(4)]!
  const nested = (): SyncedDict => dict(local.root, 'nested')
  /**
   * The steps: single sets (declared), and writes whose transactions are read. A set in a
   * transaction with other writes is declared only when those change nothing.
   */
  const writes: Array<() => void> = [
    () => local.root.set(key(), primitive()),
    () => dictSet(local.array, key(), primitive(), Date.now() + 1 + int(60_000)),
    () => local.root.set(key(), { n: int(100) }),
    () => local.root.delete(key()),
    () => nested().set(int(2) === 0 ? 'a' : key(), primitive()),
    () => dict(nested(), 'deep').set('b', primitive()),
    // A dict inside a list: its path names a list item, so its set is read.
    () => (list(local.root, 'items').get(int(2)) as SyncedDict).set('c', int(100)),
    () => peer.root.set('nested', { a: int(100), deep: { b: 2 } }),
    () =>
      local.doc.transact(() => {
        local.root.set(key(), int(100))
        local.root.set(key(), int(100))
      }),
    () =>
      local.doc.transact(() => {
        local.root.set(key(), int(100))
        dictDelete(local.array, key())
      }),
    () =>
      local.doc.transact(() => {
        local.root.set(key(), int(100))
        nested().set('a', int(100))
      }),
    () => undo.undo(),
  ]
  for (let step = 0; step < steps; step++) {
    if (int(4) === 0) peer.root.set(key(), `peer${step}`)
    if (int(3) === 0) syncAll([local.doc, peer.doc], 'peer')
    writes[int(writes.length)]!()
    undo.stopCapturing()
  }
  return tally
}

describe('declared intent of a dict set', () => {
  it('records what reading the transaction gives (seeded random writes, a peer writing the same keys)', () => {
    const total: Tally = { root: 0, nested: 0, read: 0 }
    for (let seed = 1; seed <= 40; seed++) {
      const tally = run(seed, 200)
      total.root += tally.root
      total.nested += tally.nested
      total.read += tally.read
    }
    // Every path ran: a test that never declared (or never read) would show nothing.
    expect(total.root).toBeGreaterThan(1_000)
    expect(total.nested).toBeGreaterThan(500)
    expect(total.read).toBeGreaterThan(1_000)
  })

  it('is not taken when the same transaction wrote anything else', () => {
    const { doc, root, array } = createViews()
    root.set('a', 1)
    root.set('inner', { x: 1 })
    const declared: Array<ReturnType<typeof declaredSet>> = []
    const recorded: Intent[][] = []
    doc.on('beforeObserverCalls', (transaction: Y.Transaction) => {
      declared.push(declaredSet(transaction))
      recorded.push(recordIntent(transaction))
    })
    root.set('a', 2)
    dict(root, 'inner').set('x', 3)
    doc.transact(() => {
      root.set('a', 3)
      root.set('b', 4)
    })
    doc.transact(() => {
      root.set('a', 5)
      dictDelete(array, 'b')
    })
    doc.transact(() => {
      root.set('c', 6)
      root.set('d', { nested: true })
    })
    doc.transact(() => {
      root.set('a', 7)
      dict(root, 'inner').set('x', 8)
    })
    doc.transact(() => {
      root.set('a', 9)
      dictDelete(array, 'a')
    })
    expect(declared.map((d) => d !== null)).toEqual([true, true, false, false, false, false, false])
    expect(recorded.slice(0, 2)).toEqual([
      [{ op: 'set', path: [], key: 'a', value: 2, w: expect.any(Number) }],
      [{ op: 'set', path: ['inner'], key: 'x', value: 3, w: expect.any(Number) }],
    ])
  })
})
