/**
 * Wraps a WebSocket implementation so that the client's inspector sees what the connection
 * does: sockets opening and closing (with the relay's close code), sockets the client drops,
 * and the frames that matter for a timeline (AUTH, AUTH_OK, UPDATE, ACK, ERROR, ACCESS,
 * SYNC step 1). Frames pass through unchanged; only their headers are read, and SYNC and
 * AWARENESS payloads are never decoded.
 */
import type { WebSocketConstructor, WebSocketLike } from '../connection/Connection.ts'
import { frameBytes } from '../connection/frameBytes.ts'
import { type Message, MessageType, decodeMessage } from '../protocol/messages.ts'

/** What a tapped socket reports. */
export interface SocketTap {
  connecting(url: string): void
  opened(): void
  closed(code: number, reason: string): void
  /** The client gave the socket up itself (heartbeat, connect timeout, network down). */
  dropped(): void
  sent(message: Message): void
  received(message: Message): void
}

/** Frame types worth decoding for the timeline (others are skipped after one byte). */
const SENT = new Set<number>([MessageType.auth, MessageType.update, MessageType.sync])
const RECEIVED = new Set<number>([
  MessageType.ack,
  MessageType.error,
  MessageType.access,
  MessageType.authOk,
])

type Handler<E> = ((event: E) => void) | null

/** A WebSocket constructor whose sockets report to `tap`. */
export function tapWebSocket(Impl: WebSocketConstructor, tap: SocketTap): WebSocketConstructor {
  return class TappedWebSocket implements WebSocketLike {
    readonly #inner: WebSocketLike
    #onclose: Handler<{ code: number; reason: string }> = null

    constructor(url: string) {
      tap.connecting(url)
      this.#inner = new Impl(url)
      this.#inner.onclose = (event) => {
        tap.closed(event.code, event.reason)
        this.#onclose?.(event)
      }
    }

    get binaryType(): string {
      return this.#inner.binaryType
    }
    set binaryType(value: string) {
      this.#inner.binaryType = value
    }
    get readyState(): number {
      return this.#inner.readyState
    }

    send(data: Uint8Array): void {
      peek(data, SENT, tap.sent)
      this.#inner.send(data)
    }

    close(code?: number, reason?: string): void {
      this.#inner.close(code, reason)
    }

    /** As `ws`'s terminate where the implementation has one; the connection calls it to drop a socket. */
    terminate(): void {
      tap.dropped()
      const terminate = (this.#inner as { terminate?: () => void }).terminate
      if (typeof terminate === 'function') terminate.call(this.#inner)
      else this.#inner.close()
    }

    get onopen(): Handler<unknown> {
      return this.#inner.onopen
    }
    set onopen(handler: Handler<unknown>) {
      this.#inner.onopen = handler
        ? (event) => {
            tap.opened()
            handler(event)
          }
        : null
    }
    get onclose(): Handler<{ code: number; reason: string }> {
      return this.#onclose
    }
    set onclose(handler: Handler<{ code: number; reason: string }>) {
      this.#onclose = handler
    }
    get onerror(): Handler<unknown> {
      return this.#inner.onerror
    }
    set onerror(handler: Handler<unknown>) {
      this.#inner.onerror = handler
    }
    get onmessage(): Handler<{ data: unknown }> {
      return this.#inner.onmessage
    }
    set onmessage(handler: Handler<{ data: unknown }>) {
      this.#inner.onmessage = handler
        ? (event) => {
            const bytes = frameBytes(event.data)
            if (bytes) peek(bytes, RECEIVED, tap.received)
            handler(event)
          }
        : null
    }
  }
}

/** Decodes `frame` only when its type (one byte: every type is below 128) is in `types`. */
function peek(
  frame: Uint8Array,
  types: ReadonlySet<number>,
  report: (message: Message) => void,
): void {
  const type = frame[0]
  if (type === undefined || !types.has(type)) return
  let message: Message
  try {
    message = decodeMessage(frame)
  } catch {
    return
  }
  report(message)
}
