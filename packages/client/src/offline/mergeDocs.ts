import * as Y from 'yjs'
import { MemoryDoc } from '../model/MemoryDoc.ts'
import { keptVectors, unwrap, wrapDocument } from './envelope.ts'

/**
 * Two stored documents as one, garbage-collected: both applied to a fresh document and
 * re-encoded (`Y.mergeUpdates` neither collects garbage nor scales). Documents of different
 * epochs do not merge: the newer epoch's replaces the older (its content was carried over).
 */
export function mergeDocs(stored: Uint8Array, current: Uint8Array): Uint8Array {
  const a = unwrap(stored)
  const b = unwrap(current)
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? stored : current
  // A fixed guid: a document that lives for one merge needs no random one (uuidv4 was a
  // third of a reader's checkpoint).
  const doc = new MemoryDoc({ gc: true, guid: 'remem-merge' })
  try {
    Y.applyUpdate(doc, a.update)
    Y.applyUpdate(doc, b.update)
    const merged = Y.encodeStateAsUpdate(doc)
    if (a.epoch === 0 && stored === a.update && current === b.update) return merged
    // Each may know vectors earlier epochs ended with (see wrapDocument): both kept.
    return wrapDocument(a.epoch, merged, keptVectors(a.ended ?? [], b.ended ?? []))
  } finally {
    doc.destroy()
  }
}
