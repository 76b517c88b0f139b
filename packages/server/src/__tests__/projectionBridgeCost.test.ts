/**
 * The projection bridge's work per document change follows the change, not the memory
 * (issue 12): entries decoded and elements stepped over (the model's counters) while the
 * relay applies one client update and then projects it are the same at 10 and 1,000 keys.
 * Counts, not times: times are noisy.
 */
import { dictDelete, dictSet } from '@remem/client/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { countersNow, modelCounters } from '../../../client/src/model/counters.ts'
import type { ProjectionBridge } from '../ProjectionBridge.ts'
import { bridgeRoom, updateOf, writerOf } from './helpers/bridgeRoom.ts'

const bridges: ProjectionBridge[] = []

afterEach(async () => {
  for (const bridge of bridges.splice(0)) await bridge.close()
})

/** Entries decoded plus elements stepped over while `fn` runs. */
async function work(fn: () => unknown): Promise<number> {
  const before = countersNow()
  await fn()
  return modelCounters.decoded - before.decoded + (modelCounters.visited - before.visited)
}

describe('projection bridge cost', () => {
  it('applying and projecting one single-key update does the same work at 10 and 1,000 keys', async () => {
    const cost = async (size: number) => {
      const writer = writerOf(size)
      const { room, bridge, projected } = bridgeRoom(writer)
      bridges.push(bridge)
      // As a relay loading the memory: every key projected once (a full read, not counted).
      await bridge.reconcile()
      await bridge.flush()
      /** The relay's work for one client change: applying its update, then projecting it. */
      const relayWork = async (edit: (root: Y.Array<unknown>) => void) => {
        const update = updateOf(writer, edit)
        return { apply: await work(() => Y.applyUpdate(room, update)), flush: await work(() => bridge.flush()) }
      }
      const perUpdate: Array<{ apply: number; flush: number }> = []
      for (let i = 0; i < 10; i++) {
        const key = `k${(i * 7) % size}`
        perUpdate.push(await relayWork((root) => dictSet(root, key, `v${i}`)))
        expect((await projected())[key]).toBe(`v${i}`)
      }
      perUpdate.push(await relayWork((root) => dictSet(root, 'new', { a: [1, 2] })))
      perUpdate.push(await relayWork((root) => dictDelete(root, 'k3')))
      const values = await projected()
      expect(values.new).toEqual({ a: [1, 2] })
      expect(values).not.toHaveProperty('k3')
      expect(Object.keys(values)).toHaveLength(size)
      return perUpdate
    }
    const small = await cost(10)
    const large = await cost(1_000)
    expect(large).toEqual(small)
    // A set decodes its new entry (index and bridge), not the memory.
    for (const { apply } of small) expect(apply).toBeLessThan(10)
    expect(modelCounters.indexFailures).toBe(0)
  })
})
