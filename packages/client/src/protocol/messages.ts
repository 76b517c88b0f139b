/**
 * The remem wire protocol: binary frames over one WebSocket that carries many memories.
 *
 * Every frame starts with a varUint message type. Memory-scoped frames follow with the
 * memory name as a varString.
 *
 *   SYNC      both ways  name, a y-protocols sync message (step 1, step 2 or update)
 *   UPDATE    client →   name, varUint seq, varUint8Array update   (acknowledged)
 *   ACK       → client   name, varUint seq                          (cumulative)
 *   ERROR     → client   name, varUint code, varString message
 *   CLOSE     client →   name                                       (unsubscribe)
 *   AWARENESS both ways  name, a y-protocols awareness update      (presence; not stored)
 *   PING      client →   empty name                                 (heartbeat)
 *   PONG      → client   empty name                                 (answer to PING)
 *   AUTH      client →   empty name, varString token                (first frame, optional)
 *   AUTH_OK   → client   empty name                                 (the token is accepted)
 *   ACCESS    → client   name, varUint access (1 read, 2 write)     (before SYNC step 2)
 *   EPOCH     → client   name, varUint epoch, varUint8Array the final state vector of the
 *                        client's epoch (empty: unknown), varUint8Array the epoch's whole
 *                        document, varUint the epoch that vector ended (missing: epoch - 1)
 *
 * Credentials: a client with a token sends AUTH as the first frame after the socket opens;
 * the relay answers AUTH_OK, or closes the socket with 4401 (a bad or expired token, and
 * when the token expires later). Access is decided per memory at SYNC step 1: ACCESS, or
 * ERROR forbidden.
 *
 * Handshake, per memory and after every reconnect:
 *   1. client → SYNC step 1 (its state vector): this also subscribes it to the memory.
 *   2. relay  → SYNC step 2 (what the client lacks), then SYNC step 1 (the relay's vector).
 *   3. client → UPDATE (what the relay lacks, tagged with the client's highest local seq).
 * From then on the client sends each local change as UPDATE with the next seq, the relay
 * answers ACK(seq) once the change and everything before it is persisted, and fans other
 * clients' changes out as SYNC update frames. Presence: after its SYNC step 1 a client sends
 * its awareness state (and every change of it); the relay fans states out to the memory's
 * other sockets, sends all current states to a socket that joins, and the removal of a
 * socket's states when it leaves. Details: docs/PROTOCOL.md.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const MessageType = {
  sync: 0,
  update: 1,
  ack: 2,
  error: 3,
  close: 4,
  awareness: 5,
  /** Heartbeat from a client (browsers cannot send WebSocket pings); name is empty. */
  ping: 6,
  /** The relay's answer to PING; name is empty. */
  pong: 7,
  /** Credentials from a client, the first frame after the socket opens; name is empty. */
  auth: 8,
  /** The relay accepted AUTH; name is empty. */
  authOk: 9,
  /** What this connection may do with a memory; the relay sends it before SYNC step 2. */
  access: 10,
  /**
   * The memory is in another epoch than the client's SYNC step 1 said (or just moved to a
   * new one): its whole new document. See docs/PROTOCOL.md, "Epochs".
   */
  epoch: 11,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Codes of ERROR frames: the memory-level refusals. */
export const ErrorCode = {
  /** The memory name does not match `[A-Za-z0-9_.@-]{1,200}`. */
  invalidName: 1,
  /** The update could not be decoded. */
  malformedUpdate: 2,
  /** The update is larger than the relay's `maxUpdateBytes`. */
  updateTooLarge: 3,
  /** The update depends on changes the relay does not have (it would park pending structs). */
  missingDependencies: 4,
  /** The update claims clocks far beyond what the client could have produced. */
  hostileClock: 5,
  /** The update carries content remem documents never hold (subdocuments, formats, …). */
  unsupportedContent: 6,
  /** The frame type is not allowed in this direction, or its payload is malformed. */
  badMessage: 7,
  /** The relay could not load the memory from its store; the client sends SYNC step 1 again (with backoff). */
  loadFailed: 8,
  /** The client may not read this memory, or (with read access) not write it. */
  forbidden: 9,
  /** The connection has as many memories open as the relay's `maxMemoriesPerConnection`. */
  tooManyMemories: 10,
  /** The update would make the memory larger than the relay's `maxMemoryBytes`. */
  memoryTooLarge: 11,
  /** The update writes clocks of a Yjs client id at or past those another connection declared. */
  clientIdTaken: 12,
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export const errorCodeName = (code: number): string =>
  Object.entries(ErrorCode).find(([, value]) => value === code)?.[0] ?? `unknown(${code})`

/** WebSocket close codes the relay uses. */
export const CloseCode = {
  /** The relay is shutting down; reconnect (to it or another relay). */
  goingAway: 1001,
  /** A frame was larger than the relay's `maxFrameBytes`. */
  frameTooLarge: 1009,
  /** A frame could not be parsed at all. */
  malformedFrame: 4400,
  /** The token is invalid or expired (at AUTH, or when it expires later); get a new one. */
  unauthorized: 4401,
  /** The client did not read fast enough; its buffered bytes passed the limit. */
  slowConsumer: 4408,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Memory names: `[A-Za-z0-9_.@-]{1,200}`, so `prefix + name + ':' + key` splits cleanly. */
export const MEMORY_NAME = /^[A-Za-z0-9_.@-]{1,200}$/

export function isValidMemoryName(name: string): boolean {
  return MEMORY_NAME.test(name)
}

/** What a connection may do with a memory, as ACCESS carries it. */
export type AccessLevel = 'read' | 'write'

const ACCESS_CODES = { read: 1, write: 2 } as const

export type Message =
  | { type: typeof MessageType.sync; name: string; payload: Uint8Array }
  | { type: typeof MessageType.update; name: string; seq: number; update: Uint8Array }
  | { type: typeof MessageType.ack; name: string; seq: number }
  | { type: typeof MessageType.error; name: string; code: number; message: string }
  | { type: typeof MessageType.close; name: string }
  | { type: typeof MessageType.awareness; name: string; payload: Uint8Array }
  | { type: typeof MessageType.ping; name: string }
  | { type: typeof MessageType.pong; name: string }
  | { type: typeof MessageType.auth; name: string; token: string }
  | { type: typeof MessageType.authOk; name: string }
  | { type: typeof MessageType.access; name: string; access: AccessLevel }
  | {
      type: typeof MessageType.epoch
      name: string
      epoch: number
      /** The state vector epoch `vectorEpoch` ended with; empty when the relay does not know it. */
      endedVector: Uint8Array
      /** The epoch `endedVector` belongs to: the one the client said it is in. */
      vectorEpoch: number
      state: Uint8Array
    }

/** Encodes one frame. */
export function encodeMessage(message: Message): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, message.type)
  encoding.writeVarString(encoder, message.name)
  switch (message.type) {
    case MessageType.sync:
    case MessageType.awareness:
      encoding.writeUint8Array(encoder, message.payload)
      break
    case MessageType.update:
      encoding.writeVarUint(encoder, message.seq)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case MessageType.ack:
      encoding.writeVarUint(encoder, message.seq)
      break
    case MessageType.error:
      encoding.writeVarUint(encoder, message.code)
      encoding.writeVarString(encoder, message.message)
      break
    case MessageType.auth:
      encoding.writeVarString(encoder, message.token)
      break
    case MessageType.access:
      encoding.writeVarUint(encoder, ACCESS_CODES[message.access])
      break
    case MessageType.epoch:
      encoding.writeVarUint(encoder, message.epoch)
      encoding.writeVarUint8Array(encoder, message.endedVector)
      encoding.writeVarUint8Array(encoder, message.state)
      encoding.writeVarUint(encoder, message.vectorEpoch)
      break
    case MessageType.close:
    case MessageType.ping:
    case MessageType.pong:
    case MessageType.authOk:
      break
  }
  return encoding.toUint8Array(encoder)
}

/** Thrown by {@link decodeMessage} for frames that do not parse. */
export class FrameError extends Error {
  override readonly name = 'FrameError'
}

/** Decodes one frame; throws {@link FrameError} when it does not parse. */
export function decodeMessage(frame: Uint8Array): Message {
  try {
    const decoder = decoding.createDecoder(frame)
    const type = decoding.readVarUint(decoder)
    const name = decoding.readVarString(decoder)
    const rest = (): Uint8Array => decoding.readTailAsUint8Array(decoder)
    const done = <T>(message: T): T => {
      if (decoding.hasContent(decoder)) throw new FrameError('trailing bytes after the message')
      return message
    }
    switch (type) {
      case MessageType.sync:
        return { type, name, payload: rest() }
      case MessageType.awareness:
        return { type, name, payload: rest() }
      case MessageType.update: {
        const seq = decoding.readVarUint(decoder)
        const update = decoding.readVarUint8Array(decoder)
        return done({ type, name, seq, update })
      }
      case MessageType.ack:
        return done({ type, name, seq: decoding.readVarUint(decoder) })
      case MessageType.error: {
        const code = decoding.readVarUint(decoder)
        const message = decoding.readVarString(decoder)
        return done({ type, name, code, message })
      }
      case MessageType.auth:
        return done({ type, name, token: decoding.readVarString(decoder) })
      case MessageType.access: {
        const code = decoding.readVarUint(decoder)
        const access = code === ACCESS_CODES.read ? 'read' : code === ACCESS_CODES.write ? 'write' : null
        if (access === null) throw new FrameError(`unknown access level ${code}`)
        return done({ type, name, access })
      }
      case MessageType.epoch: {
        const epoch = decoding.readVarUint(decoder)
        const endedVector = decoding.readVarUint8Array(decoder)
        const state = decoding.readVarUint8Array(decoder)
        // Older relays sent the previous epoch's vector and nothing after the document.
        const vectorEpoch = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : epoch - 1
        return done({ type, name, epoch, endedVector, vectorEpoch, state })
      }
      case MessageType.close:
      case MessageType.ping:
      case MessageType.pong:
      case MessageType.authOk:
        return done({ type, name })
      default:
        throw new FrameError(`unknown message type ${type}`)
    }
  } catch (error) {
    if (error instanceof FrameError) throw error
    throw new FrameError(`frame does not parse: ${(error as Error).message}`, { cause: error })
  }
}
