/**
 * The local transactions of one task (a burst of writes) as the one update they add up to,
 * written the way Yjs writes a single transaction's update: this client's structs since the
 * burst began, read from the document, and the union of the transactions' deletions.
 *
 * Why not `Y.mergeUpdates` of the transactions' updates: merging keeps every value the burst
 * wrote, so a key set 64 times costs the relay 64 items to check, integrate and collect. In
 * the document the overwritten ones are already collected into one deleted range, and the
 * relay gets the same state from two structs. The merge also decodes every update again.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

type DeleteSet = Y.Transaction['deleteSet']

export class BurstUpdate {
  /** The Yjs client id and clock the burst began at; client -1: no burst. */
  private client = -1
  private from = 0
  private epoch = 0
  private readonly deleteSets: DeleteSet[] = []

  /** Adds a local transaction of `doc` made in `epoch` (the first one begins the burst). */
  add(transaction: Y.Transaction, epoch: number): void {
    const client = transaction.doc.clientID
    if (this.client === -1) {
      this.client = client
      this.from = transaction.beforeState.get(client) ?? 0
      this.epoch = epoch
    } else if (client !== this.client || epoch !== this.epoch) {
      // The document was replaced or renamed its writer mid-burst: `encode` declines.
      this.epoch = Number.NaN
    }
    if (transaction.deleteSet.clients.size > 0) this.deleteSets.push(transaction.deleteSet)
  }

  /** Forgets the burst. */
  clear(): void {
    this.client = -1
    this.deleteSets.length = 0
  }

  /**
   * The burst's update, read from `doc` in `epoch`; null when it cannot be read from the
   * document (no burst, or the document changed epoch or writer meanwhile): merge instead.
   */
  encode(doc: Y.Doc, epoch: number): Uint8Array | null {
    const client = this.client
    if (client === -1 || client !== doc.clientID || epoch !== this.epoch) return null
    const encoder = new Y.UpdateEncoderV1()
    const rest = encoder.restEncoder
    const structs = doc.store.clients.get(client) ?? []
    const end = Y.getState(doc.store, client)
    if (end > this.from) {
      const first = Y.findIndexSS(structs, this.from)
      encoding.writeVarUint(rest, 1)
      encoding.writeVarUint(rest, structs.length - first)
      encoder.writeClient(client)
      encoding.writeVarUint(rest, this.from)
      // The first struct may have merged with an older one: written from the burst's clock.
      structs[first]!.write(encoder, this.from - structs[first]!.id.clock)
      for (let i = first + 1; i < structs.length; i++) structs[i]!.write(encoder, 0)
    } else {
      encoding.writeVarUint(rest, 0)
    }
    const deleted = Y.mergeDeleteSets(this.deleteSets)
    encoding.writeVarUint(rest, deleted.clients.size)
    for (const [deleter, items] of deleted.clients) {
      encoder.resetDsCurVal()
      encoding.writeVarUint(rest, deleter)
      encoding.writeVarUint(rest, items.length)
      for (const item of items) {
        encoder.writeDsClock(item.clock)
        encoder.writeDsLen(item.len)
      }
    }
    return encoder.toUint8Array()
  }
}
