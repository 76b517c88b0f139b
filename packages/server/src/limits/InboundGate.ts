/**
 * The way in for one connection's frames. Frames are handled in arrival order, at once
 * while the connection stays within its budget (messages and bytes per second, each a token
 * bucket). Past the budget, and while the connection's AUTH is being verified, frames wait
 * here and the socket stops being read, so TCP pushes back on the sender: a flood is slowed
 * to the budget, and nothing an honest client sends is dropped.
 *
 * While the socket is paused, ws still delivers the frames of data it has already read,
 * so the queue stays small; `maxQueued` is a last guard.
 */
import { TokenBucket } from './TokenBucket.ts'

/** What the gate needs of a socket (`ws`'s WebSocket). */
export interface PausableSocket {
  pause(): void
  resume(): void
}

export interface InboundBudget {
  /** Sustained frames per second; bursts of twice as many pass at once. */
  messagesPerSecond: number
  /** Sustained bytes per second; bursts of twice as many (at least one largest frame) pass. */
  bytesPerSecond: number
  /** The largest frame, so that one always fits the byte bucket. */
  maxFrameBytes: number
}

/** Who handles what passes the gate (the connection's session: no closures per connection). */
export interface InboundHandler<Frame> {
  /** Handles one frame. */
  deliver(frame: Frame): void
  /** The budget ran out; frames wait. */
  throttled(): void
  /** Too many frames are waiting. */
  overflowed(): void
}

/** Most frames held before the connection counts as misbehaving. */
const MAX_QUEUED = 50_000

export class InboundGate<Frame> {
  private readonly queue: Array<{ frame: Frame; bytes: number }> = []
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket
  private holds = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private paused = false
  private draining = false
  private disposed = false

  constructor(
    private readonly socket: PausableSocket,
    budget: InboundBudget,
    private readonly handler: InboundHandler<Frame>,
  ) {
    this.messages = new TokenBucket(budget.messagesPerSecond, budget.messagesPerSecond * 2)
    this.bytes = new TokenBucket(
      budget.bytesPerSecond,
      Math.max(budget.bytesPerSecond * 2, budget.maxFrameBytes),
    )
  }

  push(frame: Frame, bytes: number): void {
    if (this.disposed) return
    // Nothing waits and the budget allows it: handled at once, without a queue entry (and
    // without the queue's storage, which an idle connection would otherwise keep).
    if (this.queue.length === 0 && this.holds === 0 && !this.timer && !this.draining && this.affords(bytes)) {
      this.draining = true
      try {
        this.handler.deliver(frame)
      } finally {
        this.draining = false
      }
      return this.drain()
    }
    if (this.queue.length >= MAX_QUEUED) return this.handler.overflowed()
    this.queue.push({ frame, bytes })
    this.drain()
  }

  /** Takes one frame of `bytes` from the budget if both buckets allow it now. */
  private affords(bytes: number): boolean {
    if (this.messages.wait(1) > 0 || this.bytes.wait(bytes) > 0) return false
    this.messages.take(1)
    this.bytes.take(bytes)
    return true
  }

  /** Keeps frames waiting until `release` (e.g. while a token is verified). */
  hold(): void {
    this.holds++
    this.updatePause()
  }

  release(): void {
    this.holds = Math.max(0, this.holds - 1)
    this.drain()
  }

  private drain(): void {
    // A handler may hold or push; the loop that is already running picks that up.
    if (this.draining) return
    this.draining = true
    try {
      while (this.queue.length > 0 && this.holds === 0 && !this.timer && !this.disposed) {
        const next = this.queue[0]!
        if (!this.affords(next.bytes)) {
          this.handler.throttled()
          const wait = Math.max(this.messages.wait(1), this.bytes.wait(next.bytes))
          this.timer = setTimeout(() => {
            this.timer = null
            this.drain()
          }, Math.ceil(wait))
          break
        }
        this.queue.shift()
        this.handler.deliver(next.frame)
      }
    } finally {
      this.draining = false
    }
    this.updatePause()
  }

  private updatePause(): void {
    if (this.disposed) return
    const waiting = this.queue.length > 0 || this.holds > 0
    if (waiting === this.paused) return
    this.paused = waiting
    if (waiting) this.socket.pause()
    else this.socket.resume()
  }

  /**
   * Drops what waits and stops the timer. Reads the socket again: a close handshake needs
   * the peer's close frame to be read.
   */
  dispose(): void {
    this.disposed = true
    this.queue.length = 0
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.paused) this.socket.resume()
    this.paused = false
  }
}
