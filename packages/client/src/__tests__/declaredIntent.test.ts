/**
 * A write's declared intent (intent/declared.ts) is exactly what reading its transaction
 * gives (record.ts), and is taken only for a transaction that is one primitive `set` of a
 * root key and nothing else. Seeded random writes on a memory that a peer writes too: its
 * concurrent writes of the same keys leave losers, which the next local set deletes.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { declaredIntent } from '../intent/declared.ts'
import type { Intent } from '../intent/Intent.ts'
import { readIntent } from '../intent/record.ts'
import { dictDelete, dictSet } from '../model/write.ts'
import { createViews, dict, random, syncAll } from './helpers/views.ts'

interface Tally {
  declared: number
  read: number
}

/** Runs `steps` random writes; checks every local transaction; returns how each was recorded. */
function run(seed: number, steps: number): Tally {
  const next = random(seed)
  const int = (below: number): number => Math.floor(next() * below)
  const local = createViews()
  const peer = createViews()
  local.root.set('nested', { a: 1 })
  syncAll([local.doc, peer.doc])
  const tally: Tally = { declared: 0, read: 0 }
  const seen: Array<{ declared: Intent[] | null; read: Intent[] }> = []
  local.doc.on('beforeObserverCalls', (transaction: Y.Transaction) => {
    if (transaction.origin === 'peer' || transaction.changed.size === 0) return
    seen.push({ declared: declaredIntent(transaction), read: readIntent(transaction) })
  })
  const undo = new Y.UndoManager(local.array, { captureTimeout: 0 })
  const key = (): string => `k${int(6)}`
  const primitive = (): string | number | boolean | null =>
    [int(100), `s${int(100)}`, int(2) === 0, null][int(4)]!
  /**
   * The steps: single sets (declared), and writes whose transactions are read. A set in a
   * transaction with other writes is declared only when those change nothing.
   */
  const writes: Array<() => void> = [
    () => local.root.set(key(), primitive()),
    () => dictSet(local.array, key(), primitive(), Date.now() + 1 + int(60_000)),
    () => local.root.set(key(), { n: int(100) }),
    () => local.root.delete(key()),
    () => dict(local.root, 'nested').set('a', int(100)),
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
        dict(local.root, 'nested').set('a', int(100))
      }),
    () => undo.undo(),
  ]
  for (let step = 0; step < steps; step++) {
    if (int(4) === 0) peer.root.set(key(), `peer${step}`)
    if (int(3) === 0) syncAll([local.doc, peer.doc], 'peer')
    const write = writes[int(writes.length)]!
    seen.length = 0
    write()
    undo.stopCapturing()
    for (const { declared, read } of seen) {
      if (declared === null) {
        tally.read++
        continue
      }
      tally.declared++
      expect(declared, `seed ${seed}, step ${step}: the declared intent is the one read`).toEqual(
        read,
      )
    }
  }
  return tally
}

describe('declared intent of a dict set', () => {
  it('equals the intent read from the transaction (seeded random writes, a peer writing the same keys)', () => {
    const total: Tally = { declared: 0, read: 0 }
    for (let seed = 1; seed <= 40; seed++) {
      const tally = run(seed, 200)
      total.declared += tally.declared
      total.read += tally.read
    }
    // Both paths ran: a test that never declared (or never read) would show nothing.
    expect(total.declared).toBeGreaterThan(1_000)
    expect(total.read).toBeGreaterThan(1_000)
  })

  it('is not taken when the same transaction wrote anything else', () => {
    const { doc, root, array } = createViews()
    root.set('a', 1)
    const declared: Array<Intent[] | null> = []
    doc.on('beforeObserverCalls', (transaction: Y.Transaction) =>
      declared.push(declaredIntent(transaction)),
    )
    root.set('a', 2)
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
    expect(declared[0]).toEqual([
      { op: 'set', path: [], key: 'a', value: 2, w: expect.any(Number) },
    ])
    expect(declared.slice(1)).toEqual([null, null, null])
  })
})
