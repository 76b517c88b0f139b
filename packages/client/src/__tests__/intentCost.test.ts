/**
 * Recording the intent of a list write (intent/record.ts) costs the change, not the list
 * (issues 11 and 12): the Yjs items the recorder looks at for one `push`, `insert`, `delete`,
 * `set(i)`, `move` or nested edit are a few dozen in a list of 5,000 items as in one of 20.
 * Counted as reads of `Y.Item`'s `deleted` and `countable` (every walk over a list reads
 * them for each item it passes), not timed.
 */
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Intent } from '../intent/Intent.ts'
import { recordIntent } from '../intent/record.ts'
import type { SyncedDict } from '../SyncedDict.ts'
import { createViews, list } from './helpers/views.ts'

const itemGetters = ['deleted', 'countable'] as const
const originals = itemGetters.map(
  (name) => [name, Object.getOwnPropertyDescriptor(Y.Item.prototype, name)!] as const,
)

function restoreGetters(): void {
  for (const [name, descriptor] of originals)
    Object.defineProperty(Y.Item.prototype, name, descriptor)
}

/** Runs `fn`, counting how many times it reads an item's `deleted` or `countable`. */
function itemReads<T>(fn: () => T): { reads: number; result: T } {
  let reads = 0
  for (const [name, descriptor] of originals) {
    Object.defineProperty(Y.Item.prototype, name, {
      ...descriptor,
      get(this: Y.Item) {
        reads++
        return descriptor.get!.call(this)
      },
    })
  }
  try {
    return { result: fn(), reads }
  } finally {
    restoreGetters()
  }
}

/** A memory with a list of `size` items (objects with a nested list, every third one), edited here and there. */
function memoryOf(size: number) {
  const views = createViews()
  views.root.set(
    'list',
    Array.from({ length: size }, (_, i) => (i % 3 === 0 ? { n: i, tags: [i] } : i)),
  )
  const items = list(views.root, 'list')
  // Many items instead of one run, as a list looks after edits here and there.
  for (let i = 1; i < size; i += 3) items.set(i, -i)
  /** The recorder's reads for one transaction of `fn`, and what it recorded. */
  const recorded = (fn: () => void): { reads: number; intents: Intent[] } => {
    let cost = { reads: -1, intents: [] as Intent[] }
    const record = (transaction: Y.Transaction): void => {
      const { reads, result } = itemReads(() => recordIntent(transaction))
      cost = { reads, intents: result }
    }
    views.doc.on('beforeObserverCalls', record)
    try {
      fn()
    } finally {
      views.doc.off('beforeObserverCalls', record)
    }
    return cost
  }
  return { ...views, items, recorded }
}

describe('intent recording cost', () => {
  afterEach(restoreGetters)

  it('a list push, insert, delete, set, move or nested edit reads a few items, at 20 or 5,000 items', () => {
    const cost = (size: number) => {
      const { items, recorded } = memoryOf(size)
      const middle = Math.floor(size / 2) - (Math.floor(size / 2) % 3) // an object item
      const nested = items.get<SyncedDict>(middle)!
      const result = {
        push: recorded(() => items.push('p')),
        pushMany: recorded(() => items.push('a', { b: 1 }, 'c')),
        insert: recorded(() => items.insert(middle + 2, 'i')),
        insertAtStart: recorded(() => items.insert(0, 's')),
        delete: recorded(() => items.delete(middle + 4)),
        deleteRun: recorded(() => items.delete(middle + 5, 3)),
        set: recorded(() => items.set(middle + 5, 'x')),
        move: recorded(() => items.move(middle + 6, 2)),
        pop: recorded(() => items.pop()),
        nestedSet: recorded(() => nested.set('n', 'changed')),
        nestedListPush: recorded(() => list(nested, 'tags').push(7)),
      }
      for (const [name, { reads, intents }] of Object.entries(result)) {
        expect(intents.length, `${name} recorded nothing`).toBeGreaterThan(0)
        expect(reads, `${name} read no item`).toBeGreaterThan(0)
      }
      return Object.fromEntries(Object.entries(result).map(([name, { reads }]) => [name, reads]))
    }
    const small = cost(20)
    const large = cost(5_000)
    // A walk over the list reads two per item: 10,000 here. The recorder walks from the change
    // to the nearest known position (an end, or a search marker Yjs keeps near recent edits).
    for (const [name, reads] of Object.entries(large)) {
      expect(
        reads,
        `${name}: ${reads} item reads at 5,000 items, ${small[name]} at 20`,
      ).toBeLessThanOrEqual(Math.max(100, 2 * small[name]!))
    }
  })

  it('records the positions of the change in the large list', () => {
    const { items, recorded } = memoryOf(5_000)
    const json = (i: number) => {
      const value = items.get(i)
      return value !== null && typeof value === 'object' ? value.toJSON() : value
    }
    expect(recorded(() => items.insert(2_500, 'i')).intents).toEqual([
      {
        op: 'insert',
        path: ['list'],
        index: 2_500,
        value: 'i',
        left: { value: json(2_499), index: 2_499 },
        right: { value: json(2_501), index: 2_501 },
      },
    ])
    const last = json(5_000)
    expect(recorded(() => items.push('p')).intents).toEqual([
      {
        op: 'insert',
        path: ['list'],
        index: 5_001,
        value: 'p',
        left: { value: last, index: 5_000 },
        right: null,
      },
    ])
    const removed = [json(4_000), json(4_001)]
    expect(recorded(() => items.delete(4_000, 2)).intents).toEqual([
      { op: 'remove', path: ['list'], item: { value: removed[0], index: 4_000 } },
      { op: 'remove', path: ['list'], item: { value: removed[1], index: 4_001 } },
    ])
  })
})
