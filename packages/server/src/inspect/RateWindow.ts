/** Counts events in one-second buckets over the last minute: a rate without keeping each event. */

const SECONDS = 60

export class RateWindow {
  readonly #counts = new Float64Array(SECONDS)
  readonly #stamps = new Float64Array(SECONDS)

  /** Counts one event at `now` (ms). */
  add(now = Date.now()): void {
    const second = Math.floor(now / 1000)
    const slot = second % SECONDS
    if (this.#stamps[slot] !== second) {
      this.#stamps[slot] = second
      this.#counts[slot] = 0
    }
    this.#counts[slot]! += 1
  }

  /** Events in the minute before `now`, per second. */
  perSecond(now = Date.now()): number {
    const second = Math.floor(now / 1000)
    let total = 0
    for (let slot = 0; slot < SECONDS; slot++) {
      if (second - this.#stamps[slot]! < SECONDS) total += this.#counts[slot]!
    }
    return total / SECONDS
  }
}
