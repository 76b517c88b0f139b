/**
 * The local transactions of one task (a burst of writes), which become one change: one
 * sequence number, one storage entry, one post to the other tabs and one UPDATE frame.
 *
 * Its update is read from the document when the burst closes, written the way Yjs writes a
 * single transaction's update: the structs written since the burst began (this client's, and
 * those of any update applied as a local change), and the union of the transactions'
 * deletions. A key set 64 times in one task then travels as its last value and one deleted
 * range (Yjs collected the overwritten ones), not 64 items to check, integrate and collect
 * again; and no transaction's own update is encoded, wrapped or stored.
 *
 * A burst stays small enough to pass a relay's `maxUpdateBytes` alone: it closes at
 * `BURST_BYTES` of intent JSON (the content written and its paths; each transaction's is at
 * least a few dozen bytes, so a burst holds at most a few hundred transactions). A large
 * transaction, or one whose intent is unknown, is a change of its own (see `alone`), so that
 * a refusal never takes small writes of the same task with it.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

type DeleteSet = Y.Transaction['deleteSet']

/** Intent JSON a burst closes at (its update is about as large). */
export const BURST_BYTES = 8 * 1024
/** Intent JSON from which a transaction is a change of its own. */
export const ALONE_BYTES = 1024

export class Burst {
  /**
   * The clock each Yjs client id the burst wrote as began at: the document's own, and any
   * other a local transaction wrote (an update of another tab or client applied as local).
   */
  private readonly from = new Map<number, number>()
  /** The epoch the burst's transactions were made in. */
  epoch = 0
  /** Local transactions in the burst. */
  writes = 0
  /** Their intents' JSON length. */
  private bytes = 0
  private readonly deleteSets: DeleteSet[] = []
  /** Each transaction's intents as JSON (an array); null once one is unknown. */
  private intents: string[] | null = []

  get isEmpty(): boolean {
    return this.writes === 0
  }

  /** Whether the burst is to close now (after its last `add`). */
  get full(): boolean {
    return this.bytes >= BURST_BYTES || this.intents === null
  }

  /**
   * Whether a transaction with `intents` (null: unknown) is to be a change of its own: its
   * caller closes the burst before adding it, and again after.
   */
  static alone(intents: string | null): boolean {
    return intents === null || intents.length >= ALONE_BYTES
  }

  /** Adds a local transaction made in `epoch`, with its intents' JSON (null: unknown). */
  add(transaction: Y.Transaction, epoch: number, intents: string | null): void {
    if (this.writes === 0) this.epoch = epoch
    for (const [client, clock] of transaction.afterState) {
      const before = transaction.beforeState.get(client) ?? 0
      if (clock > before && !this.from.has(client)) this.from.set(client, before)
    }
    this.writes++
    if (transaction.deleteSet.clients.size > 0) this.deleteSets.push(transaction.deleteSet)
    if (intents === null) this.intents = null
    else {
      this.bytes += intents.length
      this.intents?.push(intents)
    }
  }

  /** The intents of every transaction, in order, as one JSON array; null when one is unknown. */
  intentsJson(): string | null {
    if (this.intents === null) return null
    if (this.intents.length === 1) return this.intents[0]!
    let joined = ''
    for (const json of this.intents) {
      // Each is an array: its elements join the others'.
      if (json.length > 2) joined += (joined ? ',' : '') + json.slice(1, -1)
    }
    return `[${joined}]`
  }

  /** The burst's update, read from `doc` (whose store must be the one the burst was made in). */
  encode(doc: Y.Doc): Uint8Array {
    const encoder = new Y.UpdateEncoderV1()
    const rest = encoder.restEncoder
    // Higher client ids first, as Yjs writes them.
    const clients = [...this.from.keys()].sort((a, b) => b - a)
    encoding.writeVarUint(rest, clients.length)
    for (const client of clients) {
      const from = this.from.get(client)!
      const structs = doc.store.clients.get(client)!
      const first = Y.findIndexSS(structs, from)
      encoding.writeVarUint(rest, structs.length - first)
      encoder.writeClient(client)
      encoding.writeVarUint(rest, from)
      // The first struct may have merged with an older one: written from the burst's clock.
      structs[first]!.write(encoder, from - structs[first]!.id.clock)
      for (let i = first + 1; i < structs.length; i++) structs[i]!.write(encoder, 0)
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

  /** Forgets the burst (once it is a change). */
  clear(): void {
    this.from.clear()
    this.writes = 0
    this.bytes = 0
    this.deleteSets.length = 0
    this.intents = []
  }
}

