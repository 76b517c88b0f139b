import * as Y from 'yjs'
import { unwrap, wrap } from './envelope.ts'

/**
 * Two stored documents as one, garbage-collected: both applied to a fresh document and
 * re-encoded (`Y.mergeUpdates` neither collects garbage nor scales). Documents of different
 * epochs do not merge: the newer epoch's replaces the older (its content was carried over).
 */
export function mergeDocs(stored: Uint8Array, current: Uint8Array): Uint8Array {
  const a = unwrap(stored)
  const b = unwrap(current)
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? stored : current
  const doc = new Y.Doc({ gc: true })
  try {
    Y.applyUpdate(doc, a.update)
    Y.applyUpdate(doc, b.update)
    const merged = Y.encodeStateAsUpdate(doc)
    return a.epoch === 0 && stored === a.update && current === b.update ? merged : wrap(a.epoch, merged)
  } finally {
    doc.destroy()
  }
}
