/**
 * One connection's inbound budget: two token buckets, one of frames and one of bytes, that
 * refill from one clock reading. Their rates are the relay's (`FrameRates`, one object shared
 * by every connection), so a connection holds three numbers rather than two buckets; an idle
 * connection's memory is what a relay with many of them pays for.
 */

export interface InboundBudget {
  /** Sustained frames per second; bursts of twice as many pass at once. */
  messagesPerSecond: number
  /** Sustained bytes per second; bursts of twice as many (at least one largest frame) pass. */
  bytesPerSecond: number
  /** The largest frame, so that one always fits the byte bucket. */
  maxFrameBytes: number
}

/** The rates and burst sizes of every connection's budget, and the clock they read. */
export interface FrameRates {
  readonly messagesPerSecond: number
  readonly messageBurst: number
  readonly bytesPerSecond: number
  readonly byteBurst: number
  readonly now: () => number
}

const performanceNow = (): number => performance.now()

/** The relay's `FrameRates` for `budget` (`now`: the clock, replaceable in tests). */
export function frameRates(budget: InboundBudget, now: () => number = performanceNow): FrameRates {
  return {
    messagesPerSecond: budget.messagesPerSecond,
    messageBurst: budget.messagesPerSecond * 2,
    bytesPerSecond: budget.bytesPerSecond,
    byteBurst: Math.max(budget.bytesPerSecond * 2, budget.maxFrameBytes),
    now,
  }
}

export class FrameBudget {
  private messages: number
  private bytes: number
  private refilledAt: number

  constructor(private readonly rates: FrameRates) {
    this.messages = rates.messageBurst
    this.bytes = rates.byteBurst
    this.refilledAt = rates.now()
  }

  /**
   * Takes one frame of `bytes` from both buckets if it fits now, and returns 0. Otherwise
   * takes nothing and returns the milliseconds until it fits: a frame larger than a bucket
   * waits for a full bucket, never forever.
   */
  take(bytes: number): number {
    this.refill()
    const { messagesPerSecond, messageBurst, bytesPerSecond, byteBurst } = this.rates
    const frameCost = Math.min(1, messageBurst)
    const byteCost = Math.min(bytes, byteBurst)
    const wait = Math.max(
      0,
      ((frameCost - this.messages) / messagesPerSecond) * 1000,
      ((byteCost - this.bytes) / bytesPerSecond) * 1000,
    )
    if (wait > 0) return wait
    this.messages -= frameCost
    this.bytes -= byteCost
    return 0
  }

  private refill(): void {
    const now = this.rates.now()
    const seconds = (now - this.refilledAt) / 1000
    this.refilledAt = now
    this.messages = Math.min(this.rates.messageBurst, this.messages + seconds * this.rates.messagesPerSecond)
    this.bytes = Math.min(this.rates.byteBurst, this.bytes + seconds * this.rates.bytesPerSecond)
  }
}
