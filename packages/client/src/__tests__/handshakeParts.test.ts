/**
 * handshakeParts: pending changes cut into parts below a size, in order, each tagged with the
 * seq of its last change, together carrying everything the relay lacks.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { handshakeParts } from '../handshakeParts.ts'

/** A document and the updates of `count` changes of ~`bytes` each, after `before` shared ones. */
function changes(count: number, bytes: number, before = 0) {
  const doc = new Y.Doc()
  const root = doc.getMap('root')
  for (let i = 0; i < before; i++) root.set(`shared${i}`, 'x'.repeat(bytes))
  const relayVector = Y.encodeStateVector(doc)
  const relayState = Y.encodeStateAsUpdate(doc)
  const pending: Array<{ seq: number; update: Uint8Array }> = []
  doc.on('update', (update: Uint8Array) => pending.push({ seq: pending.length + 1, update }))
  // Keys repeat: a later change refers to the value an earlier one set (its left origin).
  for (let i = 0; i < count; i++) root.set(`k${i % 150}`, `${i}`.padEnd(bytes, '-'))
  return { doc, relayVector, relayState, pending }
}

describe('handshakeParts', () => {
  it('groups consecutive changes below the size, tags each part with its last seq, and loses nothing', () => {
    const { doc, relayVector, relayState, pending } = changes(200, 500, 10)
    const { parts, vector } = handshakeParts(pending, relayVector, 16 * 1024)
    expect(parts.length).toBeGreaterThan(4)
    expect(parts.reduce((sum, part) => sum + part.changes, 0)).toBe(200)
    let last = 0
    for (const part of parts) {
      expect(part.update.byteLength).toBeLessThanOrEqual(16 * 1024)
      last += part.changes
      expect(part.seq).toBe(last) // the seq of the last change it carries
    }
    // A relay holding what it had, applying the parts in order, ends with the whole document
    // and never parks a struct waiting for a later part.
    const relay = new Y.Doc()
    Y.applyUpdate(relay, relayState)
    for (const part of parts) {
      Y.applyUpdate(relay, part.update)
      expect(relay.store.pendingStructs).toBeNull()
    }
    expect(relay.getMap('root').toJSON()).toEqual(doc.getMap('root').toJSON())
    expect(vector).toEqual(Y.decodeStateVector(Y.encodeStateVector(doc)))
  })

  it('leaves out what the relay already has, and sends a change larger than the size alone', () => {
    const { doc, relayVector, pending } = changes(3, 40_000, 5)
    const { parts } = handshakeParts(pending, relayVector, 16 * 1024)
    expect(parts.map((part) => [part.seq, part.changes])).toEqual([[1, 1], [2, 1], [3, 1]])
    // A relay that holds everything already: one part (its seq settles them), carrying no struct.
    const { parts: empty } = handshakeParts(pending, Y.encodeStateVector(doc), 1 << 20)
    expect(empty.map((part) => [part.seq, part.changes])).toEqual([[3, 3]])
    expect(Y.parseUpdateMeta(empty[0]!.update).to.size).toBe(0)
  })
})
