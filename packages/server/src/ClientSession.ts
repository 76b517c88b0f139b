/**
 * One WebSocket connection on the relay. It parses frames, routes them to memory rooms,
 * and is the only place that writes to the socket. A frame that does not parse closes
 * this connection with `CloseCode.malformedFrame`; a bad request about one memory gets
 * an ERROR frame for that memory. Nothing a client sends can throw out of here: an
 * exception would reach ws's socket handler (uncaught) or a promise chain (an unhandled
 * rejection), and either ends the process.
 */
import {
  CloseCode,
  ErrorCode,
  FrameError,
  MessageType,
  decodeMessage,
  encodeMessage,
  isValidMemoryName,
} from '@remem/client/protocol'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { WebSocket } from 'ws'
import type { Logger } from './logger.ts'
import type { MemoryRoom } from './MemoryRoom.ts'

/** WebSocket close code for an unexpected condition on the relay (RFC 6455). */
const INTERNAL_ERROR = 1011
/** Longest close reason WebSocket allows, in bytes. */
const MAX_REASON_BYTES = 123

/** What a session needs from its relay. */
export interface SessionHost {
  openRoom(name: string): Promise<MemoryRoom>
  releaseRoom(room: MemoryRoom): void
  logger: Logger
}

export class ClientSession {
  private readonly rooms = new Map<string, Promise<MemoryRoom | null>>()
  private closed = false
  /** Whether the socket answered the last heartbeat ping. */
  alive = true

  constructor(
    readonly socket: WebSocket,
    private readonly host: SessionHost,
  ) {
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary))
    socket.on('pong', () => {
      this.alive = true
    })
    socket.on('close', () => this.dispose())
    socket.on('error', () => this.dispose())
  }

  send(frame: Uint8Array): void {
    if (!this.closed && this.socket.readyState === this.socket.OPEN) this.socket.send(frame)
  }

  ack(name: string, seq: number): void {
    this.send(encodeMessage({ type: MessageType.ack, name, seq }))
  }

  refuse(name: string, code: ErrorCode, message: string): void {
    this.host.logger.warn('refused a client request', { memory: name.slice(0, 200), code, message })
    this.send(encodeMessage({ type: MessageType.error, name: name.slice(0, 200), code, message }))
  }

  /** Closes the socket with a code and reason (reason cut to the 123 bytes WebSocket allows). */
  close(code: number, reason: string): void {
    if (this.closed) return
    // Cut whole characters: a split one decodes to U+FFFD, which is 3 bytes and could
    // push the reason past the limit, and ws throws on that.
    let text = reason
    while (Buffer.byteLength(text) > MAX_REASON_BYTES) text = text.slice(0, -1)
    this.socket.close(code, text)
    this.dispose()
  }

  private onFrame(data: unknown, isBinary: boolean): void {
    try {
      this.handleFrame(data, isBinary)
    } catch (error) {
      this.host.logger.error('handling a frame failed; closing the connection', { error: String(error) })
      this.close(INTERNAL_ERROR, 'the relay failed to handle a frame')
    }
  }

  private handleFrame(data: unknown, isBinary: boolean): void {
    if (this.closed) return
    if (!isBinary) return this.close(CloseCode.malformedFrame, 'text frames are not part of the protocol')
    const frame = toBytes(data)
    let message
    try {
      message = decodeMessage(frame)
    } catch (error) {
      const reason = error instanceof FrameError ? error.message : 'frame does not parse'
      return this.close(CloseCode.malformedFrame, reason)
    }
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
        return this.withRoom(message.name, (room) => room.handleClientUpdate(this, message.seq, message.update))
      case MessageType.close:
        return this.unsubscribe(message.name)
      case MessageType.awareness:
        return this.withRoom(message.name, (room) => room.handleAwareness(this, message.payload))
      case MessageType.ack:
      case MessageType.error:
      case MessageType.pong:
        return this.refuse(message.name, ErrorCode.badMessage, 'ACK, ERROR and PONG frames only travel from the relay')
    }
  }

  private onSync(name: string, payload: Uint8Array): void {
    let stateVector: Uint8Array
    try {
      const decoder = decoding.createDecoder(payload)
      if (decoding.readVarUint(decoder) !== syncProtocol.messageYjsSyncStep1) {
        return this.refuse(name, ErrorCode.badMessage, 'clients send SYNC step 1 only; send changes as UPDATE frames')
      }
      stateVector = decoding.readVarUint8Array(decoder)
      Y.decodeStateVector(stateVector)
    } catch {
      return this.refuse(name, ErrorCode.badMessage, 'SYNC step 1 does not carry a valid state vector')
    }
    let opening = this.rooms.get(name)
    if (!opening) {
      opening = this.host.openRoom(name).catch((error: unknown) => {
        this.rooms.delete(name)
        this.refuse(name, ErrorCode.loadFailed, `the relay could not load this memory: ${String(error)}`)
        return null
      })
      this.rooms.set(name, opening)
    }
    void opening.then((room) => {
      if (!room || this.closed || this.rooms.get(name) !== opening) return
      try {
        room.join(this, stateVector)
      } catch (error) {
        this.host.logger.error('answering SYNC step 1 failed', { memory: name, error: String(error) })
        this.refuse(name, ErrorCode.badMessage, 'the relay could not answer this SYNC step 1')
      }
    })
  }

  private withRoom(name: string, action: (room: MemoryRoom) => void): void {
    const opening = this.rooms.get(name)
    if (!opening) {
      return this.refuse(name, ErrorCode.badMessage, 'send SYNC step 1 for this memory before updates')
    }
    // Frames are handled in arrival order: an UPDATE after a SYNC waits for the room.
    void opening.then((room) => {
      if (!room || this.closed || !room.sessions.has(this)) return
      try {
        action(room)
      } catch (error) {
        this.host.logger.error('handling an update failed', { memory: name, error: String(error) })
        this.refuse(name, ErrorCode.malformedUpdate, 'the relay could not apply this update')
      }
    })
  }

  private unsubscribe(name: string): void {
    const opening = this.rooms.get(name)
    if (!opening) return
    this.rooms.delete(name)
    void opening.then((room) => {
      if (!room) return
      room.leave(this)
      this.host.releaseRoom(room)
    })
  }

  /** Leaves every room; idempotent. */
  dispose(): void {
    if (this.closed) return
    this.closed = true
    for (const name of [...this.rooms.keys()]) this.unsubscribe(name)
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[])
  return new Uint8Array(data as ArrayBuffer)
}
