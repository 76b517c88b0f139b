/** Reconnect delays: exponential backoff with full jitter (AWS architecture blog). */
export interface BackoffOptions {
  /** Upper bound of the first delay, in ms. @default 250 */
  minMs?: number
  /** Largest delay, in ms. @default 10000 */
  maxMs?: number
}

/** Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, min·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const min = options.minMs ?? 250
  const max = options.maxMs ?? 10_000
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30))
  return Math.round(random() * ceiling)
}
