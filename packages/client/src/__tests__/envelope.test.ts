import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { keptVectors, unwrap, wrap, wrapDocument } from '../offline/envelope.ts'
import { mergeDocs } from '../offline/mergeDocs.ts'

function documentWith(key: string, value: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getMap('m').set(key, value)
  return Y.encodeStateAsUpdate(doc)
}

describe('stored envelopes', () => {
  const ended = new Y.Doc()
  ended.getMap('m').set('k', 'v')
  const vector = Y.encodeStateVector(ended)

  it('a document keeps the vectors earlier epochs ended with', () => {
    const update = documentWith('a', '1')
    const ended = [
      { epoch: 1, vector: Y.encodeStateVector(new Y.Doc()) },
      { epoch: 2, vector },
    ]
    const unwrapped = unwrap(wrapDocument(3, update, ended))
    expect(unwrapped.epoch).toBe(3)
    expect(unwrapped.intents).toBeNull()
    expect(unwrapped.update).toEqual(update)
    expect(unwrapped.ended).toEqual(ended)
  })

  it('without a vector a document is stored as before (format 1)', () => {
    const update = documentWith('a', '1')
    const bytes = wrapDocument(3, update, [])
    expect(bytes).toEqual(wrap(3, update))
    expect(Array.from(bytes.subarray(0, 5))).toEqual([0xff, 0x52, 0x45, 0x4d, 0x01])
    expect(unwrap(bytes).ended).toBeUndefined()
  })

  it('a change of several transactions keeps their count (format 3); one of one is format 1', () => {
    const update = documentWith('a', '1')
    const intents = [{ op: 'set', path: [], key: 'a', value: '1' }] as never
    const burst = wrap(2, update, intents, undefined, 12)
    expect(Array.from(burst.subarray(0, 5))).toEqual([0xff, 0x52, 0x45, 0x4d, 0x03])
    expect(unwrap(burst)).toEqual({ epoch: 2, intents, writes: 12, update })
    const single = wrap(2, update, intents)
    expect(Array.from(single.subarray(0, 5))).toEqual([0xff, 0x52, 0x45, 0x4d, 0x01])
    expect(unwrap(single)).toEqual({ epoch: 2, intents, writes: 1, update })
  })

  it('merging two documents of one epoch keeps the vectors either of them has', () => {
    const known = wrapDocument(1, documentWith('a', '1'), [{ epoch: 0, vector }])
    const unknown = wrap(1, documentWith('b', '2'))
    for (const [stored, current] of [
      [known, unknown],
      [unknown, known],
    ] as const) {
      const merged = unwrap(mergeDocs(stored, current))
      expect(merged.epoch).toBe(1)
      expect(merged.ended).toEqual([{ epoch: 0, vector }])
      const doc = new Y.Doc()
      Y.applyUpdate(doc, merged.update)
      expect(doc.getMap('m').toJSON()).toEqual({ a: '1', b: '2' })
    }
  })

  it('keeps one vector per epoch, the newest few', () => {
    const of = (epoch: number) => ({ epoch, vector: Uint8Array.of(epoch) })
    expect(keptVectors([of(1), of(3)], [of(2), of(3)])).toEqual([of(1), of(2), of(3)])
    expect(keptVectors([of(1), of(2), of(3)], [of(4), of(5)]).map((entry) => entry.epoch)).toEqual([2, 3, 4, 5])
  })
})
