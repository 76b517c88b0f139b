import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ClientIdOwners } from '../limits/ClientIdOwners.ts'
import { DocumentSize } from '../limits/DocumentSize.ts'
import { FrameBudget, frameRates } from '../limits/FrameBudget.ts'

describe('FrameBudget', () => {
  it('lets a burst of twice the rate through, then refills at the rate, frames and bytes alike', () => {
    let now = 0
    const rates = frameRates({ messagesPerSecond: 10, bytesPerSecond: 1_000, maxFrameBytes: 500 }, () => now)
    const budget = new FrameBudget(rates)
    for (let i = 0; i < 20; i++) expect(budget.take(1)).toBe(0)
    // The frame bucket is empty: one more frame waits 100 ms, and is not taken until then.
    expect(budget.take(1)).toBeCloseTo(100)
    now += 50
    expect(budget.take(1)).toBeCloseTo(50)
    now += 50
    expect(budget.take(1)).toBe(0)
    // Both buckets full again; one frame of 2,000 bytes empties the byte bucket.
    now += 10_000
    expect(budget.take(2_000)).toBe(0)
    expect(budget.take(100)).toBeCloseTo(100)
    // A frame larger than the bucket waits for a full bucket, never forever.
    now += 10_000
    expect(budget.take(1_000_000)).toBe(0)
  })

  it('keeps rates in one object shared by every connection', () => {
    const rates = frameRates({ messagesPerSecond: 5, bytesPerSecond: 100, maxFrameBytes: 1_000 })
    // The byte burst is at least one largest frame.
    expect(rates).toMatchObject({ messageBurst: 10, byteBurst: 1_000 })
    const a = new FrameBudget(rates)
    const b = new FrameBudget(rates)
    for (let i = 0; i < 10; i++) expect(a.take(1)).toBe(0)
    expect(a.take(1)).toBeGreaterThan(0)
    expect(b.take(1)).toBe(0)
  })
})

describe('ClientIdOwners', () => {
  it('the first live declaration wins; others may add only clocks below the declared one', () => {
    const owners = new ClientIdOwners<string>()
    // Nobody declared 1: anyone may extend it.
    expect(owners.conflict('forwarder', [[1, 10]])).toBeNull()
    expect(owners.declare('tab', 1, 5)).toBe(true)
    expect(owners.conflict('tab', [[1, 100]])).toBeNull()
    // The owner's past changes (clocks 0..4) may be forwarded; its next clocks may not.
    expect(owners.conflict('forwarder', [[1, 5]])).toBeNull()
    expect(owners.conflict('forwarder', [[2, 3], [1, 6]])).toEqual({ client: 1, clock: 5 })
    expect(owners.declare('hostile', 1, 1_000)).toBe(false)
    expect(owners.conflict('forwarder', [[1, 6]])).toEqual({ client: 1, clock: 5 })
    // A connection owns one id: declaring another releases the first.
    expect(owners.declare('tab', 2, 0)).toBe(true)
    expect(owners.size).toBe(1)
    expect(owners.conflict('hostile', [[1, 6]])).toBeNull()
    owners.release('tab')
    owners.release('forwarder')
    expect(owners.size).toBe(0)
    expect(owners.conflict('hostile', [[2, 1]])).toBeNull()
  })
})

describe('DocumentSize', () => {
  it('errs high between measurements and measures before refusing', () => {
    const doc = new Y.Doc()
    const size = new DocumentSize(doc, 2_000)
    const list = doc.getArray<string>('root')
    for (let i = 0; i < 10; i++) {
      doc.transact(() => {
        if (list.length > 0) list.delete(0, 1)
        list.push(['x'.repeat(150)])
      })
    }
    // Ten overwrites counted ~1,700 bytes, the document holds one value.
    expect(size.bytes).toBeGreaterThan(1_500)
    expect(size.wouldExceed(500)).toBe(false)
    expect(size.bytes).toBeLessThan(400)
    expect(size.wouldExceed(5_000)).toBe(true)
    size.dispose()
  })
})
