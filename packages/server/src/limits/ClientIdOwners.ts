/**
 * Which connection writes as which Yjs client id, in one memory on this relay.
 *
 * A Yjs update names its author by client id, and a struct is identified by (client id,
 * clock). Structs that extend another client's clocks take that client's next ids: when
 * the real client then sends its own change at those clocks, Yjs keeps the first and
 * silently drops the second, and the copies diverge for good. So a connection may not
 * extend a client id another live connection owns.
 *
 * A connection owns a client id when it declares it (its own document's id, after its SYNC
 * step 1) or, for ids nobody declared, when it is the first to extend it. A declaration
 * beats a claim by extension (a tab forwards other tabs' offline changes in its handshake);
 * among declarations the first live one wins. Everything a connection owns is released when
 * it leaves the memory.
 */

/** Most client ids one connection may claim by extension in one memory (a page needs a few). */
const MAX_CLAIMS_PER_SESSION = 1_000

export class ClientIdOwners<Session> {
  private readonly declared = new Map<number, Session>()
  private readonly claimed = new Map<number, Session>()
  private readonly bySession = new Map<Session, Set<number>>()

  /** Records that `session` writes as `clientId`; false when another live session declared it. */
  declare(session: Session, clientId: number): boolean {
    const owner = this.declared.get(clientId)
    if (owner !== undefined && owner !== session) return false
    this.declared.set(clientId, session)
    this.ids(session).add(clientId)
    return true
  }

  /** The first of `clients` that another session owns, or null. */
  conflict(session: Session, clients: Iterable<number>): number | null {
    for (const client of clients) {
      const owner = this.declared.get(client) ?? this.claimed.get(client)
      if (owner !== undefined && owner !== session) return client
    }
    return null
  }

  /** Claims the unowned ones of `clients` for `session` (it just extended them). */
  claim(session: Session, clients: Iterable<number>): void {
    const ids = this.ids(session)
    for (const client of clients) {
      if (this.declared.has(client) || this.claimed.has(client)) continue
      if (ids.size >= MAX_CLAIMS_PER_SESSION) return
      this.claimed.set(client, session)
      ids.add(client)
    }
  }

  /** Releases everything `session` owns. */
  release(session: Session): void {
    const ids = this.bySession.get(session)
    if (!ids) return
    this.bySession.delete(session)
    for (const id of ids) {
      if (this.declared.get(id) === session) this.declared.delete(id)
      if (this.claimed.get(id) === session) this.claimed.delete(id)
    }
  }

  /** Number of owned client ids (for inspection and leak checks). */
  get size(): number {
    return this.declared.size + this.claimed.size
  }

  private ids(session: Session): Set<number> {
    let ids = this.bySession.get(session)
    if (!ids) this.bySession.set(session, (ids = new Set()))
    return ids
  }
}
