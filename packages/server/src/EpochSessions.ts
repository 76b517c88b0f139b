/**
 * Which epoch each session's client is in, and the EPOCH frames that move clients to the
 * room's (docs/DESIGN.md, "Epochs"; docs/PROTOCOL.md, "Epochs").
 *
 * EPOCH carries the state vector the *client's* epoch ended with, however many epochs behind
 * it is: with it the client settles every pending change that was persisted in that epoch but
 * never acknowledged (the ACK was lost with a socket or a relay), instead of replaying it by
 * intent and applying a list insert twice. The vector of the epoch just before the room's is
 * held here; older ones come from the store (`Store.endedVector`), which keeps the last
 * `KEPT_ENDED_VECTORS`. While the store cannot be asked (Redis down), the EPOCH waits and the
 * relay asks again: sent without the vector, it would have the client replay persisted changes.
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
/** Retries of a vector the store could not give (unreachable): from this delay, doubling, up to the next. */
const FETCH_RETRY_MIN_MS = 100
const FETCH_RETRY_MAX_MS = 2_000

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
    this.fetch(session, state, FETCH_RETRY_MIN_MS)
  }

  /**
   * Asks the store for the vector the session's epoch ended with, then sends EPOCH. An
   * unreachable store is asked again (`retryMs`, doubling): an EPOCH without the vector would
   * have the client replay changes persisted but not acknowledged, and apply list inserts twice.
   */
  private fetch(session: ClientSession, state: SessionEpoch, retryMs: number): void {
    const epoch = state.epoch
    void this.store.endedVector(this.room.name, epoch).then(
      (vector) => {
        this.ended.set(epoch, vector)
        this.deliver(session, state, vector)
      },
      () => {
        if (!this.waits(session, state)) return this.deliver(session, state, null)
        setTimeout(() => {
          // Another session of the room may have fetched it meanwhile.
          const known = this.knownVector(state.epoch)
          if (known !== undefined || !this.waits(session, state)) return this.deliver(session, state, known ?? null)
          this.fetch(session, state, Math.min(retryMs * 2, FETCH_RETRY_MAX_MS))
        }, retryMs).unref()
      },
    )
  }

  /** The fetch for `state` is over: EPOCH goes out if the session still waits for it. */
  private deliver(session: ClientSession, state: SessionEpoch, vector: Uint8Array | null): void {
    state.fetching = false
    if (this.waits(session, state)) this.sendFrame(session, state, vector)
  }

  /** The session is still in the room, tracked as `state`, and waits for its EPOCH. */
  private waits(session: ClientSession, state: SessionEpoch): boolean {
    return this.room.has(session) && this.sessions.get(session) === state && !state.joined
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
