import * as Y from 'yjs'

/**
 * Two stored documents as one, garbage-collected: both applied to a fresh document and
 * re-encoded (`Y.mergeUpdates` neither collects garbage nor scales).
 */
export function mergeDocs(stored: Uint8Array, current: Uint8Array): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  try {
    Y.applyUpdate(doc, stored)
    Y.applyUpdate(doc, current)
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}
