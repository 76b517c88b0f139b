/**
 * Which entry wins each top-level key of a memory document, followed transaction by
 * transaction at the cost of the transaction, not of the memory (issue 12).
 *
 * A key's winner can only change when the key gains or loses an entry, or when a peer
 * rewrites a root entry's wrapper. So a transaction's candidates are the keys of the root
 * elements it inserted (decoded: there are as many as it inserted), of the winners it deleted
 * (looked up by element id: deleted content is not decoded) and of the root wrappers it
 * changed; for each, the root's `DictIndex` (kept current by the client model) names the
 * winner now, which is compared with the one recorded here.
 */
import { type DictIndex, decodeDictEntry, dictIndex, forEachDeletedItem, forEachInsertedItem, getRoot } from '@remem/client/protocol'
import type * as Y from 'yjs'

/** The index of a memory document's root dict (kept current by the client model). */
export function rootIndex(doc: Y.Doc): DictIndex {
  const index = dictIndex(getRoot(doc))
  if (!index) throw new Error('the root of a memory document has no DictIndex: is the document destroyed?')
  return index
}

/** An element of the root array, named `client:clock` (survives Yjs splitting items). */
const elementId = (client: number, clock: number): string => `${client}:${clock}`

export class RootWinners {
  /** The element id of each key's winner. */
  private readonly winnerOf = new Map<string, string>()
  /** The key each winning element holds. */
  private readonly keyAt = new Map<string, string>()

  /** Records the current winners (one read of the index, once). */
  constructor(private readonly doc: Y.Doc) {
    this.resync()
  }

  /** The keys whose winner `transaction` changed (set, overwritten, deleted), recorded anew. */
  changed(transaction: Y.Transaction): string[] {
    const root = getRoot(this.doc)
    const candidates = new Set<string>()
    forEachDeletedItem(transaction, (item, from, to) => {
      if (item.parent !== root || item.parentSub !== null) return
      for (let at = from; at < to; at++) {
        const key = this.keyAt.get(elementId(item.id.client, at))
        if (key !== undefined) candidates.add(key)
      }
    })
    forEachInsertedItem(transaction, (item, from) => {
      if (item.parent !== root || item.parentSub !== null || !item.countable) return
      const content = item.content.getContent()
      for (let offset = from; offset < item.length; offset++) {
        const key = decodeDictEntry(content[offset])?.key
        if (key !== undefined) candidates.add(key)
      }
    })
    for (const type of transaction.changedParentTypes.keys()) {
      // A root entry's wrapper changed (nested edits change it too): its key, before and now.
      const item = type._item
      if (item === null || item.parent !== root || item.parentSub !== null) continue
      const before = this.keyAt.get(elementId(item.id.client, item.id.clock))
      if (before !== undefined) candidates.add(before)
      const now = item.deleted ? undefined : decodeDictEntry(type)?.key
      if (now !== undefined) candidates.add(now)
    }
    const changed: string[] = []
    for (const key of candidates) if (this.check(key)) changed.push(key)
    return changed
  }

  /**
   * Forgets every winner and returns their keys: the document's content was replaced (a new
   * epoch), its element ids name other elements now.
   */
  clear(): string[] {
    const keys = [...this.winnerOf.keys()]
    this.winnerOf.clear()
    this.keyAt.clear()
    return keys
  }

  /**
   * Records every winner again from a full read and returns every key, before and now: for
   * a transaction `changed` could not follow (cannot happen while the document is sound).
   */
  resync(): string[] {
    const keys = new Set(this.clear())
    for (const entry of rootIndex(this.doc).winners()) {
      this.check(entry.key)
      keys.add(entry.key)
    }
    return [...keys]
  }

  /** Records `key`'s winner from the index; whether it changed. */
  private check(key: string): boolean {
    const winner = rootIndex(this.doc).records(key).at(-1)
    const now = winner ? elementId(winner.client, winner.clock) : undefined
    const before = this.winnerOf.get(key)
    if (now === before) return false
    if (before !== undefined && this.keyAt.get(before) === key) this.keyAt.delete(before)
    if (now === undefined) {
      this.winnerOf.delete(key)
    } else {
      this.winnerOf.set(key, now)
      this.keyAt.set(now, key)
    }
    return true
  }
}
