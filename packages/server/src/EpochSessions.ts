/**
 * Which epoch each session's client is in, and the EPOCH frames that move clients to the
 * room's (docs/DESIGN.md, "Epochs"; docs/PROTOCOL.md, "Epochs").
 *
 * EPOCH carries the state vector the *client's* epoch ended with, however many epochs behind
 * it is: with it the client settles every pending change that was persisted in that epoch but
 * never acknowledged (the ACK was lost with a socket or a relay), instead of replaying it by
 * intent and applying a list insert twice. The vector of the epoch just before the room's is
 * held here; older ones come from the store (`Store.endedVector`), which keeps the last
 * `KEPT_ENDED_VECTORS`.
 */
import { MessageType, encodeMessage } from '@remem/client/protocol'
import * as Y from 'yjs'
import type { ClientSession } from './ClientSession.ts'
import { KEPT_ENDED_VECTORS, type Store } from './store/Store.ts'

interface SessionEpoch {
  /** The client's epoch: the one its SYNC step 1 named, then the one of the last EPOCH sent. */
  epoch: number
  /** Its SYNC step 1 named the room's epoch: its updates count. */
  joined: boolean
  /** An EPOCH waits for a vector from the store; it goes out with the room's epoch then. */
  fetching: boolean
}

/** What the tracker reads from its room. */
export interface EpochRoom {
  readonly name: string
  readonly epoch: number
  readonly doc: Y.Doc
  /** The session is still in the room. */
  has(session: ClientSession): boolean
}

const EMPTY = new Uint8Array()

export class EpochSessions {
  private readonly sessions = new WeakMap<ClientSession, SessionEpoch>()
  /** Final state vectors of past epochs (null: the store does not keep it). */
  private readonly ended = new Map<number, Uint8Array | null>()

  constructor(
    private readonly room: EpochRoom,
    private readonly store: Store,
  ) {}

  /**
   * A session's SYNC step 1 named `epoch`. Returns whether that is the room's; if not, the
   * session gets EPOCH (unless the client is ahead: the room follows first, then moves it).
   */
  join(session: ClientSession, epoch: number): boolean {
    const state: SessionEpoch = { epoch, joined: epoch === this.room.epoch, fetching: false }
    this.sessions.set(session, state)
    if (epoch < this.room.epoch) this.send(session, state)
    return state.joined
  }

  /** Whether the session's updates were made in the room's epoch (else they are ignored). */
  accepts(session: ClientSession): boolean {
    const state = this.sessions.get(session)
    return state !== undefined && state.joined && state.epoch === this.room.epoch
  }

  /**
   * The room moved to a new epoch; `previousVector` is the one the epoch before it ended
   * with (null: unknown). Every session in `sessions` gets EPOCH.
   */
  moved(previousVector: Uint8Array | null, sessions: Iterable<ClientSession>): void {
    if (previousVector) this.ended.set(this.room.epoch - 1, previousVector)
    for (const epoch of this.ended.keys())
      if (epoch < this.room.epoch - KEPT_ENDED_VECTORS) this.ended.delete(epoch)
    let state: Uint8Array | null = null
    const documentState = (): Uint8Array => (state ??= Y.encodeStateAsUpdate(this.room.doc))
    for (const session of sessions) {
      const tracked = this.sessions.get(session)
      if (tracked) this.send(session, tracked, documentState)
    }
  }

  private send(
    session: ClientSession,
    state: SessionEpoch,
    documentState?: () => Uint8Array,
  ): void {
    state.joined = false
    if (state.fetching) return
    const known = this.knownVector(state.epoch)
    if (known !== undefined) return this.sendFrame(session, state, known, documentState)
    state.fetching = true
    const epoch = state.epoch
    void this.store.endedVector(this.room.name, epoch).then(
      (vector) => {
        this.ended.set(epoch, vector)
        this.afterFetch(session, state, vector)
      },
      // Store unreachable: the client replays by intent (docs/DESIGN.md, "Epochs").
      () => this.afterFetch(session, state, null),
    )
  }

  private afterFetch(session: ClientSession, state: SessionEpoch, vector: Uint8Array | null): void {
    state.fetching = false
    if (!this.room.has(session) || this.sessions.get(session) !== state || state.joined) return
    this.sendFrame(session, state, vector)
  }

  /** The vector `epoch` ended with if known here; undefined: ask the store. */
  private knownVector(epoch: number): Uint8Array | null | undefined {
    if (epoch >= this.room.epoch) return null
    if (epoch < this.room.epoch - KEPT_ENDED_VECTORS) return null
    return this.ended.get(epoch)
  }

  private sendFrame(
    session: ClientSession,
    state: SessionEpoch,
    vector: Uint8Array | null,
    documentState: () => Uint8Array = () => Y.encodeStateAsUpdate(this.room.doc),
  ): void {
    session.send(
      encodeMessage({
        type: MessageType.epoch,
        name: this.room.name,
        epoch: this.room.epoch,
        endedVector: vector ?? EMPTY,
        vectorEpoch: state.epoch,
        state: documentState(),
      }),
    )
    state.epoch = this.room.epoch
  }
}
