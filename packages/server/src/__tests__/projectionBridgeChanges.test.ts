/**
 * Which keys the projection bridge projects after each document change: exactly those whose
 * winning entry changed (set, overwritten by a later concurrent write, deleted, edited inside,
 * replaced by a new epoch), found from the transaction instead of a scan (issue 12).
 */
import {
  type Json,
  dictDelete,
  dictIndex,
  dictSet,
  getRoot,
  rebuildState,
  replaceDocument,
} from '@remem/client/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { ProjectionBridge } from '../ProjectionBridge.ts'
import { bridgeRoom, updateOf, writerOf } from './helpers/bridgeRoom.ts'

const bridges: ProjectionBridge[] = []

afterEach(async () => {
  for (const bridge of bridges.splice(0)) await bridge.close()
})

/** A room document with keys k0…k9, two writers synced with it, and a bridge. */
async function setup() {
  const writers = [writerOf(10), new Y.Doc()] as const
  Y.applyUpdate(writers[1], Y.encodeStateAsUpdate(writers[0]))
  const { room, projection, bridge, projected } = bridgeRoom(writers[0])
  bridges.push(bridge)
  await bridge.reconcile()
  await bridge.flush()
  /** The update of `edit` made on writer `n` (not applied to the room yet). */
  const change = (n: 0 | 1, edit: (root: Y.Array<unknown>) => void): Uint8Array => updateOf(writers[n], edit)
  /** Applies `updates` to the room, flushes, and returns the keys written by that flush. */
  const apply = async (...updates: Uint8Array[]): Promise<string[]> => {
    for (const update of updates) Y.applyUpdate(room, update)
    const before = projection.written.length
    await bridge.flush()
    return projection.written.slice(before).flat()
  }
  return { room, writers, change, apply, projected }
}

/** A raw entry of `key` written at `w` (as a client whose clock is at `w` writes it). */
const entryAt = (key: string, value: Json, w: number) => (root: Y.Array<unknown>) => root.push([{ k: key, v: value, w }])

describe('projection bridge: keys projected per change', () => {
  it('projects a set, an overwrite, a delete and a nested edit, and only those keys', async () => {
    const { change, apply, projected, writers } = await setup()
    expect(await projected()).toMatchObject({ k0: 0, k9: 9 })
    expect(await apply(change(0, (root) => dictSet(root, 'k2', 'two')))).toEqual(['k2'])
    expect(await apply(change(0, (root) => dictDelete(root, 'k4')))).toEqual(['k4'])
    expect(await apply(change(0, (root) => dictSet(root, 'obj', { a: { b: 1 } })))).toEqual(['obj'])
    const inner = dictIndex(getRoot(writers[0]))!.get('obj')!
    if (inner.kind !== 'dict') throw new Error('obj is not a dict')
    expect(await apply(change(0, () => dictSet(inner.value, 'c', 3)))).toEqual(['obj'])
    const ttl = Date.now() + 60_000
    expect(await apply(change(0, (root) => dictSet(root, 'k5', 5, ttl)))).toEqual(['k5'])
    const values = await projected()
    expect(values).toMatchObject({ k2: 'two', obj: { a: { b: 1 }, c: 3 }, k5: 5 })
    expect(values).not.toHaveProperty('k4')
  })

  it('a concurrent write projects only if it wins (the later w), whichever arrives first', async () => {
    const { change, apply, projected } = await setup()
    const now = Date.now()
    // Later write first: the earlier one arriving after it changes no winner.
    const late = change(1, entryAt('k1', 'late', now + 10_000))
    const early = change(0, entryAt('k1', 'early', now))
    expect(await apply(late)).toEqual(['k1'])
    expect(await apply(early)).toEqual([])
    // Earlier write first: the later one replaces it.
    const early3 = change(0, entryAt('k3', 'early', now))
    const late3 = change(1, entryAt('k3', 'late', now + 10_000))
    expect(await apply(early3)).toEqual(['k3'])
    expect(await apply(late3)).toEqual(['k3'])
    expect(await projected()).toMatchObject({ k1: 'late', k3: 'late' })
    // Deleting the losing entry of k1 (as a client that saw both does) changes no winner.
    const loser = change(0, (root) => {
      const at = root.toArray().findIndex((raw) => (raw as { v?: unknown }).v === 'early' && (raw as { k?: unknown }).k === 'k1')
      root.delete(at, 1)
    })
    expect(await apply(loser)).toEqual([])
    // Deleting the winner of k1 makes its older entry (the one of the initial state) win again.
    const winner = change(1, (root) => {
      const at = root.toArray().findIndex((raw) => (raw as { v?: unknown }).v === 'late' && (raw as { k?: unknown }).k === 'k1')
      root.delete(at, 1)
    })
    expect(await apply(winner)).toEqual(['k1'])
    expect((await projected()).k1).toBe(1)
  })

  it('a new epoch projects what it changed, and single changes after it project one key', async () => {
    const { room, apply, projected } = await setup()
    const next = new Y.Doc()
    Y.applyUpdate(next, Y.encodeStateAsUpdate(room))
    next.transact(() => {
      dictSet(getRoot(next), 'k1', 'new epoch')
      dictDelete(getRoot(next), 'k6')
      dictSet(getRoot(next), 'fresh', true)
    })
    replaceDocument(room, rebuildState(next, 42), 'store')
    const written = await apply()
    // Every key of the old and of the new epoch is projected (unchanged ones are skipped by the store).
    expect(written).toEqual(expect.arrayContaining(['k1', 'k6', 'fresh', 'k0', 'k9']))
    const values = await projected()
    expect(values).toMatchObject({ k1: 'new epoch', fresh: true, k0: 0 })
    expect(values).not.toHaveProperty('k6')
    // A writer in the new epoch: element ids start again, the bridge follows them.
    const writer = new Y.Doc()
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(room))
    const edit = (fn: (root: Y.Array<unknown>) => void): Uint8Array => updateOf(writer, fn)
    expect(await apply(edit((root) => dictSet(root, 'k2', 'after')))).toEqual(['k2'])
    expect(await apply(edit((root) => dictDelete(root, 'fresh')))).toEqual(['fresh'])
    expect(await projected()).toMatchObject({ k2: 'after' })
    expect(await projected()).not.toHaveProperty('fresh')
  })
})
