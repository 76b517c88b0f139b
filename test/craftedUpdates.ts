/** Yjs v1 updates built by hand or from a real document, for tests of what the relay refuses. */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/** One client's structs at `clock` (written by `write`, which returns their count), and deletions. */
export function craft(
  client: number,
  clock: number,
  write: (encoder: Y.UpdateEncoderV1) => number,
  deletes: Array<[client: number, clock: number, len: number]> = [],
): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  const structs = new Y.UpdateEncoderV1()
  const count = write(structs)
  encoding.writeVarUint(encoder.restEncoder, count > 0 ? 1 : 0)
  if (count > 0) {
    encoding.writeVarUint(encoder.restEncoder, count)
    encoder.writeClient(client)
    encoding.writeVarUint(encoder.restEncoder, clock)
    encoding.writeUint8Array(encoder.restEncoder, structs.toUint8Array())
  }
  encoding.writeVarUint(encoder.restEncoder, deletes.length)
  for (const [deleteClient, deleteClock, len] of deletes) {
    encoding.writeVarUint(encoder.restEncoder, deleteClient)
    encoding.writeVarUint(encoder.restEncoder, 1)
    encoder.writeDsClock(deleteClock)
    encoder.writeDsLen(len)
  }
  return encoder.toUint8Array()
}

/** For `craft`: an item at the start of the root list with content `ref`, written by `content`. */
export const rootItem =
  (ref: number, content: (encoder: Y.UpdateEncoderV1) => void) =>
  (encoder: Y.UpdateEncoderV1): number => {
    encoder.writeInfo(ref)
    encoder.writeParentInfo(true)
    encoder.writeString('root')
    content(encoder)
    return 1
  }

/** For `craft`: one `{ k: 'x', v: 1 }` entry at the start of the root list. */
export const oneEntry = rootItem(8, (encoder) => {
  encoder.writeLen(1)
  encoding.writeAny(encoder.restEncoder, { k: 'x', v: 1 })
})

/**
 * The second of two edits by client `client` on top of `base`, without the first: applied
 * alone it would park pending structs.
 */
export function laterUpdateWithoutEarlier(client: number, base: Y.Doc): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  doc.getArray('root').push([{ k: 'first', v: 1 }])
  const after = Y.encodeStateVector(doc)
  doc.getArray('root').push([{ k: 'second', v: 2 }])
  return Y.encodeStateAsUpdate(doc, after)
}
