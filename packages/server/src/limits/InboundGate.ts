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
import { FrameBudget, type FrameRates } from './FrameBudget.ts'

/** What the gate needs of a socket (`ws`'s WebSocket). */
export interface PausableSocket {
  pause(): void
  resume(): void
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
  /** Frames waiting, oldest first; made when the first frame has to wait. */
  private queue: Array<{ frame: Frame; bytes: number }> | null = null
  private readonly budget: FrameBudget
  private holds = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private paused = false
  private draining = false
  private disposed = false

  constructor(
    private readonly socket: PausableSocket,
    /** The relay's rates, shared by every connection. */
    rates: FrameRates,
    private readonly handler: InboundHandler<Frame>,
  ) {
    this.budget = new FrameBudget(rates)
  }

  push(frame: Frame, bytes: number): void {
    if (this.disposed) return
    // Nothing waits and the budget allows it: handled at once, without a queue entry (and
    // without the queue's storage, which an idle connection would otherwise keep).
    if (!this.queue?.length && this.holds === 0 && !this.timer && !this.draining && this.budget.take(bytes) === 0) {
      this.draining = true
      try {
        this.handler.deliver(frame)
      } finally {
        this.draining = false
      }
      return this.drain()
    }
    this.queue ??= []
    if (this.queue.length >= MAX_QUEUED) return this.handler.overflowed()
    this.queue.push({ frame, bytes })
    this.drain()
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
      while (this.queue?.length && this.holds === 0 && !this.timer && !this.disposed) {
        const next = this.queue[0]!
        const wait = this.budget.take(next.bytes)
        if (wait > 0) {
          this.handler.throttled()
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
    if (this.queue?.length === 0) this.queue = null
    this.updatePause()
  }

  private updatePause(): void {
    if (this.disposed) return
    const waiting = Boolean(this.queue?.length) || this.holds > 0
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
    this.queue = null
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.paused) this.socket.resume()
    this.paused = false
  }
}
