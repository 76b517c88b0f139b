/**
 * The log ids a room appended itself whose broadcast has not come back yet (issue 12, "Relay
 * hot path"). The store publishes every append to every relay, this one included; the room's
 * document already holds what it appended (the update came from that document), so applying
 * the echo is a no-op that still decodes the whole update. The room moves its `lastId` past
 * its own echo without applying it, and applies everything else as before.
 *
 * The echo comes on the subscriber connection and the append's reply on the command
 * connection, in either order. Before the reply the echo is known by its bytes (those of the
 * append under way); after it, by its id.
 */
import { compareIds } from './store/Store.ts'

/** Past this many forgotten ids at the front, the array is compacted. */
const COMPACT_AT = 64

export class OwnAppends {
  /** Appended ids, ascending; those before `head` are forgotten. */
  private ids: string[] = []
  private head = 0
  /** The update of the append under way, whose echo may come before its reply. */
  private sending: Uint8Array | null = null

  /** An append of `update` is about to be sent. */
  begin(update: Uint8Array): void {
    this.sending = update
  }

  /**
   * The append ended: with the ids it got (ascending), or null when it failed. Ids the room
   * is already past are not kept (their echo came first).
   */
  end(ids: readonly string[] | null, lastId: string): void {
    this.sending = null
    if (ids) this.add(ids, lastId)
  }

  private add(ids: readonly string[], lastId: string): void {
    for (const id of ids) {
      // The broadcast can arrive before the append's reply: it was applied then.
      if (compareIds(id, lastId) > 0) this.ids.push(id)
    }
  }

  /**
   * Whether the entry `id` holding `update` is one this room appended: the update is in the
   * document. Forgets that id and every older one (those came back while the room caught up
   * from the log instead).
   */
  take(id: string, update: Uint8Array): boolean {
    if (this.sending !== null && sameBytes(this.sending, update)) return true
    while (this.head < this.ids.length) {
      const next = this.ids[this.head]!
      if (next === id) {
        this.forget(this.head + 1)
        return true
      }
      if (compareIds(next, id) > 0) return false
      this.forget(this.head + 1)
    }
    return false
  }

  /** Forgets every id: the document was replaced (a new epoch) or the room closed. */
  clear(): void {
    this.ids = []
    this.head = 0
    this.sending = null
  }

  /** How many ids are remembered (for tests). */
  get size(): number {
    return this.ids.length - this.head
  }

  private forget(head: number): void {
    this.head = head
    if (this.head === this.ids.length) {
      this.ids = []
      this.head = 0
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.ids.length) {
      this.ids = this.ids.slice(this.head)
      this.head = 0
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}
