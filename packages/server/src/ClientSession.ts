/**
 * One WebSocket connection on the relay. It parses frames, routes them to memory rooms,
 * and is the only place that writes to the socket. A frame that does not parse closes
 * this connection with `CloseCode.malformedFrame`; a bad request about one memory gets
 * an ERROR frame for that memory. Nothing a client sends can throw out of here: an
 * exception would reach ws's socket handler (uncaught) or a promise chain (an unhandled
 * rejection), and either ends the process.
 *
 * Frames pass an `InboundGate` (the connection's message and byte budget; held while its
 * AUTH token is checked). Access to each memory is decided at its SYNC step 1 (`SessionAuth`,
 * the relay's `AccessPolicy`), and a client that stops reading is closed with 4408.
 */
import type { IncomingMessage } from 'node:http'
import {
  CloseCode,
  ErrorCode,
  FrameError,
  MessageType,
  decodeMessage,
  encodeMessage,
  errorCodeName,
  isValidMemoryName,
} from '@remem/client/protocol'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { RawData, WebSocket } from 'ws'
import type { AccessPolicy } from './auth/AccessPolicy.ts'
import { SessionAuth, type TokenHolder, accessWithoutToken } from './auth/SessionAuth.ts'
import type { FrameRates } from './limits/FrameBudget.ts'
import { InboundGate, type InboundHandler } from './limits/InboundGate.ts'
import type { RelayLimits } from './limits/limits.ts'
import type { Logger } from './logger.ts'
import type { MemoryRoom } from './MemoryRoom.ts'
import { OpeningsOfSession } from './OpeningsOfSession.ts'
import type { RelayMetrics } from './ops/metrics.ts'
import { atTurnEnd } from './turnEnd.ts'

/** WebSocket close code for an unexpected condition on the relay (RFC 6455). */
const INTERNAL_ERROR = 1011
/** WebSocket close code for a peer that breaks the rules (RFC 6455). */
const POLICY_VIOLATION = 1008
/** How long a slow consumer gets to take its close frame before its socket is destroyed. */
const SLOW_CONSUMER_GRACE_MS = 1000
/** Bytes held by a socket's cork that are sent at once, before the end of the turn. */
const CORKED_BYTES_SENT_AT_ONCE = 16 * 1024
/** Longest close reason WebSocket allows, in bytes. */
const MAX_REASON_BYTES = 123

/** What a session needs from its relay. */
export interface SessionHost {
  openRoom(name: string): Promise<MemoryRoom>
  /** The session's socket closed (`address`: what the session was created with). */
  sessionClosed(session: ClientSession, address: string): void
  releaseRoom(room: MemoryRoom): void
  logger: Logger
  readonly policy: AccessPolicy
  readonly limits: RelayLimits
  readonly metrics: RelayMetrics | null
  /** Every connection's inbound rates (one object for all). */
  readonly inboundRates: FrameRates
}

/** A memory this connection opened, with the access decided at its SYNC step 1. */
interface OpenMemory {
  room: MemoryRoom
  access: 'read' | 'write'
}

type Opened = ({ ok: true } & OpenMemory) | { ok: false; code: ErrorCode; message: string }

/** Each socket's session, for the socket listeners that all sessions share. */
const SESSION = Symbol('remem.session')
type SessionSocket = WebSocket & { [SESSION]: ClientSession }

// Listeners of every session's socket (ws calls them with the socket as `this`): closures
// made per connection would cost each idle connection some 300 bytes.
const sessionOf = (socket: WebSocket): ClientSession => (socket as SessionSocket)[SESSION]
function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessionOf(this).received(data, isBinary)
}
function onSocketPong(this: WebSocket): void {
  sessionOf(this).alive = true
}
function onSocketClose(this: WebSocket): void {
  sessionOf(this).socketClosed()
}
function onSocketError(this: WebSocket): void {
  sessionOf(this).dispose()
}

export class ClientSession implements InboundHandler<{ frame: Uint8Array; isBinary: boolean }>, TokenHolder {
  /**
   * The memories this connection opened. A frame takes the access from the opening it was
   * sent after, so an UPDATE followed at once by CLOSE is still handled as a write.
   */
  private readonly rooms = new OpeningsOfSession<Promise<OpenMemory | null>>()
  /** The connection's credentials: made at AUTH, or at once when the policy needs the request. */
  private auth: SessionAuth | null
  private readonly inbound: InboundGate<{ frame: Uint8Array; isBinary: boolean }>
  private sawFrame = false
  private killTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  /** The TCP socket is corked until the end of this event-loop turn (see `send`). */
  private corked = false
  /** Bytes sent while corked: held back by the cork, not by a client that does not read. */
  private corkedBytes = 0
  /** Whether the socket answered the last heartbeat ping. */
  alive = true

  constructor(
    readonly socket: WebSocket,
    private readonly host: SessionHost,
    request: IncomingMessage,
    /** The client's address, as the host counts connections per address. */
    private readonly address: string,
  ) {
    this.auth = host.policy.needsRequest ? new SessionAuth(host.policy, request, this) : null
    this.inbound = new InboundGate(socket, host.inboundRates, this)
    ;(socket as SessionSocket)[SESSION] = this
    socket.on('message', onSocketMessage)
    socket.on('pong', onSocketPong)
    socket.on('close', onSocketClose)
    socket.on('error', onSocketError)
  }

  /** @internal A frame from the socket: it waits at the inbound gate, or is handled now. */
  received(data: RawData, isBinary: boolean): void {
    const frame = toBytes(data)
    this.inbound.push({ frame, isBinary }, frame.byteLength)
  }

  /** @internal The socket closed: leaves every room and tells the host. */
  socketClosed(): void {
    if (this.killTimer) clearTimeout(this.killTimer)
    this.killTimer = null
    this.dispose()
    this.host.sessionClosed(this, this.address)
  }

  /** @internal A frame passed the inbound gate (InboundHandler). */
  deliver({ frame, isBinary }: { frame: Uint8Array; isBinary: boolean }): void {
    this.onFrame(frame, isBinary)
  }

  /** @internal The connection's budget ran out; its frames wait (InboundHandler). */
  throttled(): void {
    this.host.metrics?.throttled()
  }

  /** @internal Too many frames wait (InboundHandler). */
  overflowed(): void {
    this.close(POLICY_VIOLATION, 'too many frames waiting: slow down')
  }

  /** @internal The AUTH token expired (TokenHolder). */
  tokenExpired(): void {
    this.close(CloseCode.unauthorized, 'the token expired: connect again with a fresh token')
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    // A client that stops reading must not make the relay buffer without bound. Checked
    // before sending, so that one large frame (a big memory's SYNC step 2) still goes out.
    if (this.socket.bufferedAmount - this.corkedBytes > this.host.limits.maxBufferedBytes) {
      this.close(
        CloseCode.slowConsumer,
        `slow consumer: more than ${this.host.limits.maxBufferedBytes} bytes waiting to be sent (maxBufferedBytes)`,
      )
      // The close frame waits behind what is buffered; a client that never reads never gets it.
      this.killTimer = setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_GRACE_MS)
      this.killTimer.unref()
      return
    }
    this.corkUntilTurnEnds()
    if (this.corked) this.corkedBytes += frame.byteLength
    this.socket.send(frame)
    // Batching pays for small frames; past this many bytes they go now, so that what the
    // next send checks against maxBufferedBytes is what the client has not read.
    if (this.corkedBytes >= CORKED_BYTES_SENT_AT_ONCE) this.sendCorked()
  }

  /** Sends what the cork holds now, and stays corked until the end of the turn. */
  private sendCorked(): void {
    const tcp = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket
    if (!tcp) return
    tcp.uncork()
    tcp.cork()
    this.corkedBytes = 0
  }

  /**
   * Frames sent to one socket in one event-loop turn (an ACK and the fan-out of other
   * updates; under load, the fan-outs of every writer whose frames the turn read) leave in
   * one write instead of one syscall each: the TCP socket is corked at the first and uncorked
   * at the end of the turn (`atTurnEnd`). ws keeps its TCP socket as `_socket`.
   */
  private corkUntilTurnEnds(): void {
    if (this.corked) return
    const tcp = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket
    if (!tcp) return
    this.corked = true
    tcp.cork()
    atTurnEnd(() => {
      this.corked = false
      this.corkedBytes = 0
      tcp.uncork()
    })
  }

  ack(name: string, seq: number): void {
    this.send(encodeMessage({ type: MessageType.ack, name, seq }))
  }

  refuse(name: string, code: ErrorCode, message: string): void {
    this.host.logger.warn('refused a client request', { memory: name.slice(0, 200), code, message })
    this.host.metrics?.refused(errorCodeName(code))
    this.send(encodeMessage({ type: MessageType.error, name: name.slice(0, 200), code, message }))
  }

  /** Closes the socket with a code and reason (reason cut to the 123 bytes WebSocket allows). */
  close(code: number, reason: string): void {
    if (this.closed) return
    const refusal = Object.entries(CloseCode).find(([, value]) => value === code)?.[0]
    if (refusal && code !== CloseCode.goingAway) this.host.metrics?.refused(refusal)
    else if (code === INTERNAL_ERROR || code === POLICY_VIOLATION) this.host.metrics?.refused(`close${code}`)
    // Cut whole characters: a split one decodes to U+FFFD, which is 3 bytes and could
    // push the reason past the limit, and ws throws on that.
    let text = reason
    while (Buffer.byteLength(text) > MAX_REASON_BYTES) text = text.slice(0, -1)
    this.socket.close(code, text)
    this.dispose()
  }

  private onFrame(frame: Uint8Array, isBinary: boolean): void {
    try {
      this.handleFrame(frame, isBinary)
    } catch (error) {
      this.host.logger.error('handling a frame failed; closing the connection', { error: String(error) })
      this.close(INTERNAL_ERROR, 'the relay failed to handle a frame')
    }
  }

  private handleFrame(frame: Uint8Array, isBinary: boolean): void {
    if (this.closed) return
    if (!isBinary) return this.close(CloseCode.malformedFrame, 'text frames are not part of the protocol')
    let message
    try {
      message = decodeMessage(frame)
    } catch (error) {
      const reason = error instanceof FrameError ? error.message : 'frame does not parse'
      return this.close(CloseCode.malformedFrame, reason)
    }
    const first = !this.sawFrame
    this.sawFrame = true
    if (message.type === MessageType.auth) return this.authenticate(message.token, first)
    // The client's heartbeat: not about a memory, so its name is empty.
    if (message.type === MessageType.ping) return this.send(encodeMessage({ type: MessageType.pong, name: '' }))
    if (!isValidMemoryName(message.name)) {
      return this.refuse(
        message.name,
        ErrorCode.invalidName,
        'memory names match [A-Za-z0-9_.@-]{1,200}: no ":", spaces or glob characters',
      )
    }
    switch (message.type) {
      case MessageType.sync:
        return this.onSync(message.name, message.payload)
      case MessageType.update:
        return this.withRoom(
          message.name,
          ({ room, access }) => {
            if (access === 'write') return room.handleClientUpdate(this, message.seq, message.update)
            room.refuseUpdate(
              this,
              message.seq,
              ErrorCode.forbidden,
              `this connection may only read memory "${message.name}": writing needs a token with write access`,
            )
          },
          (room) => room.refuseUpdate(this, message.seq, ErrorCode.malformedUpdate, 'the relay could not apply this update'),
        )
      case MessageType.close:
        return this.unsubscribe(message.name)
      case MessageType.awareness:
        return this.withRoom(message.name, ({ room }) => room.handleAwareness(this, message.payload))
      case MessageType.ack:
      case MessageType.error:
      case MessageType.pong:
      case MessageType.authOk:
      case MessageType.access:
      case MessageType.epoch:
        return this.refuse(
          message.name,
          ErrorCode.badMessage,
          'ACK, ERROR, PONG, AUTH_OK, ACCESS and EPOCH frames only travel from the relay',
        )
    }
  }

  /** AUTH: verifies the token while later frames wait; AUTH_OK, or close 4401. */
  private authenticate(token: string, first: boolean): void {
    if (!first) return this.close(CloseCode.unauthorized, 'AUTH must be the first frame after the socket opens')
    this.inbound.hold()
    this.auth ??= new SessionAuth(this.host.policy, null, this)
    void this.auth.authenticate(token).then(
      (result) => {
        if (this.closed) return
        if (!result.ok) {
          this.host.logger.warn('refused a token', { reason: result.message })
          return this.close(CloseCode.unauthorized, result.message)
        }
        this.send(encodeMessage({ type: MessageType.authOk, name: '' }))
        this.inbound.release()
      },
      (error: unknown) => {
        this.host.logger.error('checking a token failed', { error: String(error) })
        this.close(CloseCode.unauthorized, 'the relay could not check the token')
      },
    )
  }

  /** Decides this connection's access to `name`, then loads the memory. */
  private async open(name: string): Promise<Opened> {
    const access = await (this.auth ? this.auth.access(name) : accessWithoutToken(this.host.policy, name))
    if (access === 'none') {
      return {
        ok: false,
        code: ErrorCode.forbidden,
        message: `this connection may not open memory "${name}": its token (or the authorize hook) does not grant it`,
      }
    }
    try {
      return { ok: true, room: await this.host.openRoom(name), access }
    } catch (error) {
      return { ok: false, code: ErrorCode.loadFailed, message: `the relay could not load this memory: ${String(error)}` }
    }
  }

  private onSync(name: string, payload: Uint8Array): void {
    let stateVector: Uint8Array
    /** The client's own Yjs client id, which it may append to its SYNC step 1. */
    let declared: number | null = null
    /** The clock its state vector gives for that id: the client has used the clocks below. */
    let declaredClock = 0
    /** The epoch of the client's document, which it may append after its id (0 if not). */
    let epoch = 0
    try {
      const decoder = decoding.createDecoder(payload)
      if (decoding.readVarUint(decoder) !== syncProtocol.messageYjsSyncStep1) {
        return this.refuse(name, ErrorCode.badMessage, 'clients send SYNC step 1 only; send changes as UPDATE frames')
      }
      stateVector = decoding.readVarUint8Array(decoder)
      const vector = Y.decodeStateVector(stateVector)
      if (decoding.hasContent(decoder)) {
        declared = decoding.readVarUint(decoder)
        declaredClock = vector.get(declared) ?? 0
        if (decoding.hasContent(decoder)) epoch = decoding.readVarUint(decoder)
      }
    } catch {
      return this.refuse(name, ErrorCode.badMessage, 'SYNC step 1 does not carry a valid state vector')
    }
    let opening = this.rooms.get(name)
    if (!opening) {
      const max = this.host.limits.maxMemoriesPerConnection
      if (this.rooms.size >= max) {
        return this.refuse(
          name,
          ErrorCode.tooManyMemories,
          `this connection has ${max} memories open (maxMemoriesPerConnection): close one first`,
        )
      }
      const attempt: Promise<OpenMemory | null> = this.open(name).then((opened) => {
        if (opened.ok) return { room: opened.room, access: opened.access }
        if (this.rooms.get(name) === attempt) this.rooms.delete(name)
        if (!this.closed) this.refuse(name, opened.code, opened.message)
        return null
      })
      opening = attempt
      this.rooms.set(name, opening)
    }
    void opening.then((opened) => {
      if (!opened || this.closed || this.rooms.get(name) !== opening) return
      const { room, access } = opened
      try {
        this.send(encodeMessage({ type: MessageType.access, name, access }))
        // A client of another epoch gets EPOCH; it declares its id on its next SYNC step 1.
        const current = room.join(this, stateVector, epoch)
        if (current && declared !== null && access === 'write') room.clientIds.declare(this, declared, declaredClock)
      } catch (error) {
        this.host.logger.error('answering SYNC step 1 failed', { memory: name, error: String(error) })
        this.refuse(name, ErrorCode.badMessage, 'the relay could not answer this SYNC step 1')
      }
    })
  }

  /** Runs `action` once the memory is open (`failed` when it throws), if this session is in it. */
  private withRoom(
    name: string,
    action: (opened: OpenMemory) => void,
    failed: (room: MemoryRoom) => void = () => this.refuse(name, ErrorCode.badMessage, 'the relay could not handle this frame'),
  ): void {
    const opening = this.rooms.get(name)
    if (!opening) {
      return this.refuse(name, ErrorCode.badMessage, 'send SYNC step 1 for this memory before updates')
    }
    // Frames are handled in arrival order: an UPDATE after a SYNC waits for the room.
    void opening.then((opened) => {
      if (!opened || this.closed || !opened.room.sessions.has(this)) return
      try {
        action(opened)
      } catch (error) {
        this.host.logger.error('handling a frame failed', { memory: name, error: String(error) })
        failed(opened.room)
      }
    })
  }

  private unsubscribe(name: string): void {
    const opening = this.rooms.get(name)
    if (!opening) return
    this.rooms.delete(name)
    void opening.then((opened) => {
      if (!opened) return
      opened.room.leave(this)
      this.host.releaseRoom(opened.room)
    })
  }

  /** Leaves every room; idempotent. */
  dispose(): void {
    if (this.closed) return
    this.closed = true
    this.auth?.dispose()
    this.inbound.dispose()
    for (const name of this.rooms.names()) this.unsubscribe(name)
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[])
  return new Uint8Array(data as ArrayBuffer)
}
