/**
 * One WebSocket to a relay, shared by every memory of a client. It reconnects with
 * exponential backoff and full jitter, and tells each registered memory when the socket
 * opens and closes so that the memory can run its handshake again. The backoff starts over
 * only once a socket proved healthy (a frame from the relay, or open for `HEALTHY_AFTER_MS`),
 * so a relay that accepts sockets only to close them (shutting down) is not hammered.
 *
 * It notices a dead connection by itself: a PING frame after every quiet interval must be
 * answered (by PONG or any other frame) within a timeout, or the socket is dropped. In
 * browsers it follows the `offline` and `online` events: it drops the socket at once when
 * the network goes away, and reconnects at once when it is back. The token function is
 * called again before every connect; the latest token is `connection.token`, sent in an
 * AUTH frame as the first frame of each socket. A relay that refuses it closes with 4401;
 * those reconnects back off further each time, until a token is accepted (AUTH_OK).
 */
import {
  CloseCode,
  type Message,
  MessageType,
  decodeMessage,
  encodeMessage,
} from '../protocol/messages.ts'
import { type BackoffOptions, backoffDelay } from './backoff.ts'
import { type NetworkMonitor, browserNetwork } from './network.ts'
import { frameBytes } from './frameBytes.ts'

export type ConnectionState = 'connecting' | 'online' | 'offline'

/** A token, or a function called for one on every (re)connect. */
export type TokenSource = string | (() => string | Promise<string>)

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

/** How a dead connection is noticed. */
export interface HeartbeatOptions {
  /** Quiet time after which the client sends a PING, in ms. @default 3000 */
  intervalMs?: number
  /** Time the relay has to answer a PING before the socket counts as dead, in ms. @default 3000 */
  timeoutMs?: number
  /** Time a new socket has to open before it is given up and retried, in ms. @default 10000 */
  connectTimeoutMs?: number
}

export interface ConnectionOptions {
  url: string
  WebSocket: WebSocketConstructor
  backoff?: BackoffOptions
  /** `false` turns the heartbeat off. */
  heartbeat?: HeartbeatOptions | false
  /** Called before every connect when a function. */
  token?: TokenSource
  /** The platform's network events. @default the browser's, or none */
  network?: NetworkMonitor
  /** Called with the relay's close code when it closes the socket on purpose. */
  onRelayClose?: (code: number, reason: string) => void
  /** Called when the token function fails; the connect is retried with backoff. */
  onError?: (error: Error) => void
  /** Called with the delay of every reconnect scheduled (the devtools' timeline). */
  onBackoff?: (delayMs: number) => void
  /**
   * Ask sockets for frames as Node Buffers first ('nodebuffer', which `ws` knows), then as
   * ArrayBuffers. Not for the platform's WebSocket: browsers know no such type, and warn.
   * @default false
   */
  nodeBuffers?: boolean
}

const OPEN = 1
/** A deadline timer this late means the event loop was blocked, not that the link is dead. */
const LATE_MS = 500
const GRACE_MS = 250
/** A socket open this long without trouble is healthy even if the relay sent nothing yet. */
const HEALTHY_AFTER_MS = 5_000

export class Connection {
  private socket: WebSocketLike | null = null
  private readonly channels = new Map<string, Channel>()
  private readonly listeners = new Set<() => void>()
  private attempt = 0
  /** Sockets closed with 4401 since a token was last accepted: they back off further. */
  private authFailures = 0
  /** Counts connects, so that a token arriving for a superseded connect is dropped. */
  private generation = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private pingTimer: ReturnType<typeof setTimeout> | null = null
  /** Drops the socket when it fires: it did not open in time, or did not answer a PING. */
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null
  /** Marks the open socket healthy (resets the backoff) after HEALTHY_AFTER_MS. */
  private healthyTimer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  private readonly network: NetworkMonitor
  private readonly offNetwork: () => void
  state: ConnectionState = 'connecting'
  /** The token of the latest connect (the token function is called before each). */
  token: string | undefined
  /** When the socket last received a frame (ms since epoch). */
  private lastHeardAt = 0
  /** Delays of the reconnects scheduled so far (kept short; for diagnostics and tests). */
  readonly recentDelays: number[] = []

  constructor(private readonly options: ConnectionOptions) {
    if (typeof options.token === 'string') this.token = options.token
    this.network = options.network ?? browserNetwork()
    this.offNetwork = this.network.subscribe((online) =>
      online ? this.onNetworkUp() : this.onNetworkDown(),
    )
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

  /** Drops the current socket (if any) and connects again at once. */
  reconnectNow(): void {
    if (this.closed) return
    if (this.socket) this.drop(this.socket, false)
    this.clearTimer()
    this.attempt = 0
    this.connect()
  }

  private onNetworkDown(): void {
    if (this.closed) return
    if (this.socket) this.drop(this.socket)
    else this.setState('offline')
  }

  private onNetworkUp(): void {
    if (this.closed) return
    // A socket that survived the change may be dead: check it now rather than after the interval.
    if (this.socket?.readyState === OPEN) return this.ping(this.socket)
    if (this.socket) return
    this.clearTimer()
    this.attempt = 0
    this.connect()
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const listener of this.listeners) listener()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private connect(): void {
    if (this.closed) return
    this.setState(this.attempt === 0 ? 'connecting' : 'offline')
    // The browser is sure there is no network: wait for `online` (or the next attempt).
    if (!this.network.isOnline()) return this.scheduleReconnect()
    const generation = ++this.generation
    const token = this.options.token
    if (typeof token !== 'function') return this.open()
    let pending: Promise<string>
    try {
      pending = Promise.resolve(token())
    } catch (error) {
      pending = Promise.reject(error as Error)
    }
    pending.then(
      (value) => {
        if (this.closed || generation !== this.generation) return
        this.token = value
        this.open()
      },
      (error: unknown) => {
        if (this.closed || generation !== this.generation) return
        this.options.onError?.(
          new Error(`the token function failed; retrying with backoff: ${String(error)}`, {
            cause: error,
          }),
        )
        this.scheduleReconnect()
      },
    )
  }

  private open(): void {
    let socket: WebSocketLike
    try {
      socket = new this.options.WebSocket(this.options.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    receiveBytes(socket, this.options.nodeBuffers === true)
    // A connect whose packets vanish neither opens nor fails: give it up after a while.
    const heartbeat = this.options.heartbeat
    if (heartbeat !== false) this.armDeadline(socket, heartbeat?.connectTimeoutMs ?? 10_000)
    socket.onopen = () => {
      if (this.socket !== socket) return
      this.stopHeartbeat()
      // Not yet a reason to reset the backoff: a relay shutting down may close it at once.
      this.healthyTimer = setTimeout(() => this.healthy(socket), HEALTHY_AFTER_MS)
      this.lastHeardAt = Date.now()
      this.setState('online')
      this.schedulePing(socket)
      // First, so that the relay knows the credentials before any memory is opened.
      if (this.token !== undefined) {
        socket.send(encodeMessage({ type: MessageType.auth, name: '', token: this.token }))
      }
      for (const channel of this.channels.values()) channel.onOpen()
    }
    socket.onmessage = (event) => {
      if (this.socket !== socket) return
      this.heard(socket)
      const bytes = frameBytes(event.data)
      if (bytes === null) return
      let message: Message
      try {
        message = decodeMessage(bytes)
      } catch {
        return
      }
      this.healthy(socket)
      if (message.type === MessageType.authOk) {
        this.authFailures = 0
        return
      }
      if (message.type === MessageType.pong || message.type === MessageType.ping) return
      this.channels.get(message.name)?.onMessage(message)
    }
    socket.onerror = () => {}
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.closedSocket()
      if (
        event.code >= 4000 ||
        event.code === CloseCode.goingAway ||
        event.code === CloseCode.frameTooLarge
      ) {
        this.options.onRelayClose?.(event.code, event.reason)
      }
      // A refused token would be refused again at once: back off as if the opens had failed.
      if (event.code === CloseCode.unauthorized) this.attempt = ++this.authFailures
      this.scheduleReconnect()
    }
  }

  /** Forgets `socket` at once (without waiting for a close handshake a dead link never finishes). */
  private drop(socket: WebSocketLike, reconnect = true): void {
    if (this.socket !== socket) return
    socket.onopen = socket.onmessage = socket.onclose = null
    try {
      const terminate = (socket as { terminate?: () => void }).terminate
      if (typeof terminate === 'function') terminate.call(socket)
      else socket.close()
    } catch {
      // Already closed.
    }
    this.closedSocket()
    if (reconnect) this.scheduleReconnect()
  }

  /** The relay answered on `socket` (or kept it open): the next reconnect starts the backoff over. */
  private healthy(socket: WebSocketLike): void {
    if (this.socket !== socket) return
    this.attempt = 0
    this.clearHealthyTimer()
  }

  private clearHealthyTimer(): void {
    if (this.healthyTimer) clearTimeout(this.healthyTimer)
    this.healthyTimer = null
  }

  private closedSocket(): void {
    this.socket = null
    this.clearHealthyTimer()
    this.stopHeartbeat()
    for (const channel of this.channels.values()) channel.onClose()
  }

  /** Sends a PING once the socket has been quiet for the interval. */
  private schedulePing(socket: WebSocketLike, delay = this.heartbeatInterval()): void {
    if (this.options.heartbeat === false) return
    this.stopHeartbeat()
    this.pingTimer = setTimeout(() => {
      this.pingTimer = null
      const quiet = Date.now() - this.lastHeardAt
      const interval = this.heartbeatInterval()
      if (quiet < interval) this.schedulePing(socket, interval - quiet)
      else this.ping(socket)
    }, delay)
  }

  private heartbeatInterval(): number {
    const heartbeat = this.options.heartbeat
    return (heartbeat === false ? undefined : heartbeat?.intervalMs) ?? 3000
  }

  private ping(socket: WebSocketLike): void {
    const heartbeat = this.options.heartbeat
    if (heartbeat === false || this.socket !== socket || this.deadlineTimer) return
    if (this.pingTimer) clearTimeout(this.pingTimer)
    this.pingTimer = null
    this.send({ type: MessageType.ping, name: '' })
    this.armDeadline(socket, heartbeat?.timeoutMs ?? 3000)
  }

  /** Drops `socket` unless it opens or a frame arrives within `ms`. */
  private armDeadline(socket: WebSocketLike, ms: number): void {
    const due = Date.now() + ms
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null
      // Fired late: a long task blocked the event loop, and frames that arrived meanwhile
      // may still wait to be read. Give them a moment before calling the link dead.
      if (Date.now() - due > LATE_MS) return this.armDeadline(socket, GRACE_MS)
      this.drop(socket)
    }, ms)
  }

  /** Any frame proves the socket alive: the next PING follows a quiet interval. */
  private heard(socket: WebSocketLike): void {
    this.lastHeardAt = Date.now()
    if (!this.deadlineTimer) return
    clearTimeout(this.deadlineTimer)
    this.deadlineTimer = null
    this.schedulePing(socket)
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer)
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
    this.pingTimer = this.deadlineTimer = null
  }

  private scheduleReconnect(): void {
    if (this.closed) return
    this.setState('offline')
    this.clearTimer()
    const delay = backoffDelay(this.attempt++, this.options.backoff)
    this.recentDelays.push(delay)
    if (this.recentDelays.length > 50) this.recentDelays.shift()
    this.options.onBackoff?.(delay)
    this.timer = setTimeout(() => {
      this.timer = null
      this.connect()
    }, delay)
  }

  close(): void {
    this.closed = true
    this.clearTimer()
    this.clearHealthyTimer()
    this.stopHeartbeat()
    this.offNetwork()
    this.socket?.close(1000, 'client closed')
    this.socket = null
    this.setState('offline')
  }
}

/**
 * Has `socket` deliver binary frames as bytes. With `nodeBuffers`, as Node Buffers where it
 * knows them (`ws`): views of what the socket read, where 'arraybuffer' copies each frame into
 * an ArrayBuffer of its own. Else, or where it ignores 'nodebuffer', as ArrayBuffers.
 */
function receiveBytes(socket: WebSocketLike, nodeBuffers: boolean): void {
  if (nodeBuffers) {
    socket.binaryType = 'nodebuffer'
    if (socket.binaryType === 'nodebuffer') return
  }
  socket.binaryType = 'arraybuffer'
}
