import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryDoc } from '../model/MemoryDoc.ts'

/** Runs one scenario of listeners on `doc` and returns what each listener received, in order. */
function scenario(doc: Y.Doc): string[] {
  const calls: string[] = []
  const late = (): void => {
    calls.push('late')
  }
  const second = (): void => {
    calls.push('second')
  }
  const first = (update: Uint8Array): void => {
    calls.push(`first ${update.byteLength > 0}`)
    // Added and removed while the event is emitted: neither changes who receives this event.
    doc.on('update', late)
    doc.off('update', second)
  }
  doc.on('update', first)
  doc.on('update', second)
  doc.getMap('m').set('a', 1)
  doc.getMap('m').set('b', 2)
  const single: unknown[] = []
  doc.on('afterTransaction', (transaction: Y.Transaction) => {
    single.push(transaction.local)
    doc.on('afterTransaction', () => calls.push('added by the only listener'))
  })
  doc.getMap('m').set('c', 3)
  calls.push(`single ${single.join(',')}`)
  return calls
}

describe('MemoryDoc', () => {
  it('emits to the same listeners, in the same order, as a Y.Doc', () => {
    const expected = scenario(new Y.Doc())
    expect(expected).toContain('second')
    expect(expected).toContain('late')
    expect(scenario(new MemoryDoc())).toEqual(expected)
  })

  it('is a Y.Doc that syncs with plain ones', () => {
    const doc = new MemoryDoc()
    doc.getMap('m').set('k', 'v')
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    expect(other.getMap('m').get('k')).toBe('v')
    expect(doc).toBeInstanceOf(Y.Doc)
  })
})
