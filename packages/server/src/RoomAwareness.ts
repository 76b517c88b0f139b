/**
 * Presence (y-protocols awareness) of one memory on this relay: which client ids each
 * session announced, with their latest clock and state. Nothing of it is stored; on Redis,
 * PresenceLink shares it with the other relays.
 *
 * A session's AWARENESS frame is decoded and checked before anything changes; the entries
 * that are news (a higher clock than known, or the owner's removal at the same clock) are
 * kept and fanned out to the room's other sessions, re-encoded from what was checked.
 * A session that joins (after its SYNC step 1 is answered) gets every current state, and
 * again after its first AWARENESS frame (it may have opened presence only then). When a session leaves (CLOSE, or its socket
 * closes or misses its heartbeat) the others get the removal of every client id it still
 * owns, so a closed tab disappears at once. `onChange` sees every accepted change, which is
 * how PresenceLink shares them with other relays.
 *
 * Ownership moves to the session that sends a newer clock for a client id: a page that
 * reconnects before the relay noticed its old socket die keeps its presence when the old
 * session is finally dropped.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Largest AWARENESS payload accepted, in bytes. */
export const DEFAULT_MAX_AWARENESS_BYTES = 64 * 1024
/** Most client ids one session may announce in one memory (a page has one). */
const MAX_IDS_PER_SESSION = 16

/** What presence needs of a session. */
export interface AwarenessSession {
  send(frame: Uint8Array): void
}

/** One entry of an awareness update: `state` is JSON text of an object, or null (removal). */
export interface AwarenessEntry {
  clientId: number
  clock: number
  state: string | null
}

interface Known<Session> {
  clock: number
  state: string
  session: Session
}

/** Thrown by {@link decodeAwarenessUpdate}; the message says what is wrong. */
export class AwarenessError extends Error {
  override readonly name = 'AwarenessError'
}

/**
 * Decodes an awareness update (`varUint count`, then per entry `varUint clientID`,
 * `varUint clock`, `varString JSON state`), checking that each state is an object or null
 * and that nothing follows. Throws {@link AwarenessError}.
 */
export function decodeAwarenessUpdate(payload: Uint8Array, maxBytes: number): AwarenessEntry[] {
  if (payload.byteLength > maxBytes) {
    throw new AwarenessError(`AWARENESS is ${payload.byteLength} bytes; at most ${maxBytes}`)
  }
  const entries: AwarenessEntry[] = []
  try {
    const decoder = decoding.createDecoder(payload)
    const count = decoding.readVarUint(decoder)
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const parsed: unknown = JSON.parse(decoding.readVarString(decoder))
      if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new AwarenessError('an AWARENESS state is not an object or null')
      }
      entries.push({ clientId, clock, state: parsed === null ? null : JSON.stringify(parsed) })
    }
    if (decoding.hasContent(decoder))
      throw new AwarenessError('trailing bytes after the AWARENESS update')
  } catch (error) {
    if (error instanceof AwarenessError) throw error
    throw new AwarenessError(`AWARENESS does not decode: ${(error as Error).message}`)
  }
  return entries
}

/** Encodes entries as an awareness update (the format of `encodeAwarenessUpdate`). */
export function encodeAwarenessUpdate(entries: Iterable<AwarenessEntry>): Uint8Array {
  const list = [...entries]
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, list.length)
  for (const entry of list) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, entry.state ?? 'null')
  }
  return encoding.toUint8Array(encoder)
}

export class RoomAwareness<Session extends AwarenessSession> {
  private readonly known = new Map<number, Known<Session>>()
  private readonly owned = new Map<Session, Set<number>>()
  /** Sessions that sent AWARENESS since they joined. */
  private readonly heard = new Set<Session>()
  /** Called with what was accepted from `from` (also removals), after the fan-out. */
  onChange: ((entries: AwarenessEntry[], from: Session) => void) | null = null

  /**
   * @param sessions The room's sessions, fanned out to (the room keeps it current).
   * @param frame Wraps an awareness update into an AWARENESS frame of this memory.
   */
  constructor(
    private readonly sessions: ReadonlySet<Session>,
    private readonly frame: (payload: Uint8Array) => Uint8Array,
    private readonly maxBytes = DEFAULT_MAX_AWARENESS_BYTES,
  ) {}

  /** Number of client ids with a state. */
  get size(): number {
    return this.known.size
  }

  /** Sends `session` every current state of other sessions (nothing when there is none). */
  join(session: Session): void {
    const states: AwarenessEntry[] = []
    for (const [clientId, entry] of this.known) {
      if (entry.session !== session)
        states.push({ clientId, clock: entry.clock, state: entry.state })
    }
    if (states.length > 0) session.send(this.frame(encodeAwarenessUpdate(states)))
  }

  /** The current states of the sessions `include` accepts. */
  states(include: (session: Session) => boolean): AwarenessEntry[] {
    const states: AwarenessEntry[] = []
    for (const [clientId, entry] of this.known) {
      if (include(entry.session)) states.push({ clientId, clock: entry.clock, state: entry.state })
    }
    return states
  }

  /**
   * Applies an AWARENESS payload from `session` and fans out what is new. Returns why it
   * was refused (nothing changed then), or null. `maxIds`: client ids the session may
   * announce (another relay, standing for many connections, has no limit).
   */
  apply(session: Session, payload: Uint8Array, maxIds = MAX_IDS_PER_SESSION): string | null {
    let entries: AwarenessEntry[]
    try {
      entries = decodeAwarenessUpdate(payload, this.maxBytes)
    } catch (error) {
      return (error as Error).message
    }
    const owned = this.owned.get(session) ?? new Set<number>()
    const claims = new Set(owned)
    for (const entry of entries) if (entry.state !== null) claims.add(entry.clientId)
    if (claims.size > maxIds) {
      return `one connection may announce at most ${MAX_IDS_PER_SESSION} presence client ids per memory`
    }

    const accepted: AwarenessEntry[] = []
    for (const entry of entries) {
      const current = this.known.get(entry.clientId)
      if (entry.state === null) {
        // A removal: of a newer clock, or the owner's own at the same clock.
        if (!current) continue
        if (entry.clock < current.clock) continue
        if (entry.clock === current.clock && current.session !== session) continue
        this.forget(entry.clientId, current.session)
        accepted.push(entry)
        continue
      }
      if (current && entry.clock <= current.clock) continue
      if (current && current.session !== session)
        this.owned.get(current.session)?.delete(entry.clientId)
      this.known.set(entry.clientId, { clock: entry.clock, state: entry.state, session })
      owned.add(entry.clientId)
      accepted.push(entry)
    }
    if (owned.size > 0) this.owned.set(session, owned)

    if (accepted.length > 0) this.broadcast(accepted, session)
    // Its first frame: it may have opened presence after joining, and ignored the states then.
    if (!this.heard.has(session)) {
      this.heard.add(session)
      this.join(session)
    }
    return null
  }

  /** Forgets `session` and tells the others that every client id it owned is gone. */
  leave(session: Session): void {
    this.heard.delete(session)
    const owned = this.owned.get(session)
    this.owned.delete(session)
    if (!owned) return
    const removed: AwarenessEntry[] = []
    for (const clientId of owned) {
      const current = this.known.get(clientId)
      if (!current || current.session !== session) continue
      this.known.delete(clientId)
      // The same clock as the last state: receivers drop a state on a null at its clock.
      removed.push({ clientId, clock: current.clock, state: null })
    }
    if (removed.length > 0) this.broadcast(removed, session)
  }

  private forget(clientId: number, session: Session): void {
    this.known.delete(clientId)
    const owned = this.owned.get(session)
    owned?.delete(clientId)
    if (owned?.size === 0) this.owned.delete(session)
  }

  private broadcast(entries: AwarenessEntry[], except: Session): void {
    const frame = this.frame(encodeAwarenessUpdate(entries))
    for (const session of this.sessions) if (session !== except) session.send(frame)
    this.onChange?.(entries, except)
  }
}
