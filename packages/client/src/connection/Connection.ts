/**
 * One WebSocket to a relay, shared by every memory of a client. It reconnects with
 * exponential backoff and full jitter, and tells each registered memory when the socket
 * opens and closes so that the memory can run its handshake again.
 */
import { CloseCode, type Message, decodeMessage, encodeMessage } from '../protocol/messages.ts'
import { type BackoffOptions, backoffDelay } from './backoff.ts'

export type ConnectionState = 'connecting' | 'online' | 'offline'

/** The subset of the WebSocket API remem uses (browsers' WebSocket and `ws` both fit). */
export interface WebSocketLike {
  binaryType: string
  readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** What a memory registers to hear from the connection. */
export interface Channel {
  onOpen(): void
  onMessage(message: Message): void
  onClose(): void
}

export interface ConnectionOptions {
  url: string
  WebSocket: WebSocketConstructor
  backoff?: BackoffOptions
  /** Called with the relay's close code when it closes the socket on purpose. */
  onRelayClose?: (code: number, reason: string) => void
}

const OPEN = 1

export class Connection {
  private socket: WebSocketLike | null = null
  private readonly channels = new Map<string, Channel>()
  private readonly listeners = new Set<() => void>()
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  state: ConnectionState = 'connecting'
  /** Delays of the reconnects scheduled so far (kept short; for diagnostics and tests). */
  readonly recentDelays: number[] = []

  constructor(private readonly options: ConnectionOptions) {
    this.connect()
  }

  register(name: string, channel: Channel): void {
    this.channels.set(name, channel)
    if (this.state === 'online') channel.onOpen()
  }

  unregister(name: string): void {
    this.channels.delete(name)
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(message: Message): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false
    this.socket.send(encodeMessage(message))
    return true
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Drops the current socket (if any) and reconnects at once. */
  reconnectNow(): void {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.attempt = 0
    if (this.socket) this.socket.close()
    else this.connect()
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const listener of this.listeners) listener()
  }

  private connect(): void {
    if (this.closed) return
    this.setState(this.attempt === 0 ? 'connecting' : 'offline')
    let socket: WebSocketLike
    try {
      socket = new this.options.WebSocket(this.options.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    socket.binaryType = 'arraybuffer'
    socket.onopen = () => {
      this.attempt = 0
      this.setState('online')
      for (const channel of this.channels.values()) channel.onOpen()
    }
    socket.onmessage = (event) => {
      const data = event.data
      if (typeof data === 'string') return
      let message: Message
      try {
        message = decodeMessage(toBytes(data))
      } catch {
        return
      }
      this.channels.get(message.name)?.onMessage(message)
    }
    socket.onerror = () => {}
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      for (const channel of this.channels.values()) channel.onClose()
      if (event.code >= 4000 || event.code === CloseCode.goingAway || event.code === CloseCode.frameTooLarge) {
        this.options.onRelayClose?.(event.code, event.reason)
      }
      this.scheduleReconnect()
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return
    this.setState('offline')
    const delay = backoffDelay(this.attempt++, this.options.backoff)
    this.recentDelays.push(delay)
    if (this.recentDelays.length > 50) this.recentDelays.shift()
    this.timer = setTimeout(() => {
      this.timer = null
      this.connect()
    }, delay)
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.socket?.close(1000, 'client closed')
    this.socket = null
    this.setState('offline')
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  throw new TypeError('unexpected WebSocket message data')
}
