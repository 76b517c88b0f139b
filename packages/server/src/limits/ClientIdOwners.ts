/**
 * Which connection writes as which Yjs client id, in one memory on this relay.
 *
 * A Yjs update names its author by client id, and a struct is identified by (client id,
 * clock). Structs that extend another client's clocks take that client's next ids: when
 * the real client then sends its own change at those clocks, Yjs keeps the first and
 * silently drops the second, and the copies diverge for good.
 *
 * The rules (docs/PROTOCOL.md, "Client ids"):
 * - A connection owns the one client id it declares with its SYNC step 1 (its document's
 *   id), together with the clock its state vector gives for it: every clock below it is one
 *   the owner has already used. The first live declaration wins; a later one from the same
 *   connection replaces its previous id; leaving the memory releases it.
 * - Another connection may add structs of an owned id only below that declared clock. Those
 *   are the owner's own past changes, which honest clients forward (after a relay crash each
 *   holds the others' unpersisted changes); they cannot collide with anything the owner
 *   writes later, because the owner only ever writes above its clock.
 * - Ids no live connection declares are free: honest clients only forward changes of them.
 */
export class ClientIdOwners<Session> {
  private readonly owners = new Map<number, { session: Session; clock: number }>()
  private readonly bySession = new Map<Session, number>()
  /** Told of every declaration that took effect and every id released (PresenceLink shares them). */
  observer: {
    declared(session: Session, clientId: number, clock: number): void
    released(session: Session, clientId: number): void
  } | null = null

  /**
   * Records that `session` writes as `clientId` and has used its clocks below `clock`;
   * false when another live session declared it first.
   */
  declare(session: Session, clientId: number, clock: number): boolean {
    const owner = this.owners.get(clientId)
    if (owner !== undefined && owner.session !== session) return false
    const previous = this.bySession.get(session)
    if (previous !== undefined && previous !== clientId) {
      this.owners.delete(previous)
      this.observer?.released(session, previous)
    }
    const declared = Math.max(clock, owner?.clock ?? 0)
    this.owners.set(clientId, { session, clock: declared })
    this.bySession.set(session, clientId)
    this.observer?.declared(session, clientId, declared)
    return true
  }

  /** The owned ids (with their declared clocks) of the sessions `include` accepts. */
  owned(include: (session: Session) => boolean): Array<{ clientId: number; clock: number }> {
    const owned: Array<{ clientId: number; clock: number }> = []
    for (const [clientId, owner] of this.owners) if (include(owner.session)) owned.push({ clientId, clock: owner.clock })
    return owned
  }

  /**
   * The first extension another session's declaration forbids `session` to make, or null.
   * Each extension is a client id and the clock the update takes it to (exclusive).
   */
  conflict(
    session: Session,
    extensions: Iterable<readonly [client: number, to: number]>,
  ): { client: number; clock: number } | null {
    for (const [client, to] of extensions) {
      const owner = this.owners.get(client)
      if (owner !== undefined && owner.session !== session && to > owner.clock) {
        return { client, clock: owner.clock }
      }
    }
    return null
  }

  /** Releases the id `session` declared. */
  release(session: Session): void {
    const id = this.bySession.get(session)
    if (id === undefined) return
    this.bySession.delete(session)
    if (this.owners.get(id)?.session !== session) return
    this.owners.delete(id)
    this.observer?.released(session, id)
  }

  /** Number of owned client ids (for inspection and leak checks). */
  get size(): number {
    return this.owners.size
  }
}
