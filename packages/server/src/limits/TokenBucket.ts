/** The default clock: one function for every bucket (a relay holds two per connection). */
const performanceNow = (): number => performance.now()

/**
 * A token bucket: holds up to `capacity` tokens, refilled at `rate` per second. Taking is
 * all or nothing, so that a caller can check several buckets before consuming from any.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    /** Tokens added per second. */
    readonly rate: number,
    /** Most tokens held; the largest burst. */
    readonly capacity: number,
    private readonly now: () => number = performanceNow,
  ) {
    this.tokens = capacity
    this.last = now()
  }

  /** Milliseconds until `cost` tokens are there; 0 when they are there now. */
  wait(cost: number): number {
    this.refill()
    const missing = Math.min(cost, this.capacity) - this.tokens
    return missing <= 0 ? 0 : (missing / this.rate) * 1000
  }

  /** Takes `cost` tokens (call after `wait` returned 0). */
  take(cost: number): void {
    this.refill()
    this.tokens -= Math.min(cost, this.capacity)
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
  }
}
