/**
 * The relay's limits on what one client can make it hold or do. Every one has a default
 * sized for honest use with room to spare; each is an option of `createRelay`.
 */

/** Limits of one relay; see `RelayOptions` for what each does. */
export interface RelayLimits {
  maxConnectionsPerIp: number
  maxMemoriesPerConnection: number
  maxMessagesPerSecond: number
  maxBytesPerSecond: number
  maxMemoryBytes: number
  maxBufferedBytes: number
  allowedOrigins: readonly string[] | null
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxConnectionsPerIp: 256,
  maxMemoriesPerConnection: 100,
  maxMessagesPerSecond: 5_000,
  maxBytesPerSecond: 16 * 1024 * 1024,
  maxMemoryBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  allowedOrigins: null,
}

/** Fills in defaults and checks values; throws a RangeError naming the option. */
export function resolveLimits(
  options: Partial<{ [K in keyof RelayLimits]: RelayLimits[K] | undefined }>,
): RelayLimits {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof RelayLimits>) {
    const value = options[key]
    if (value === undefined) continue
    if (key === 'allowedOrigins') {
      if (value !== null && (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))) {
        throw new RangeError(
          'allowedOrigins must be an array of origins, e.g. ["https://app.example.com"]',
        )
      }
      limits.allowedOrigins = value as readonly string[] | null
      continue
    }
    const zeroAllowed = key === 'maxConnectionsPerIp'
    if (
      typeof value !== 'number' ||
      !(value > 0 || (zeroAllowed && value === 0)) ||
      !Number.isFinite(value)
    ) {
      throw new RangeError(
        `${key} must be a positive number${zeroAllowed ? ' (0: no limit)' : ''}, got ${String(value)}`,
      )
    }
    ;(limits as Record<keyof RelayLimits, unknown>)[key] = value
  }
  return limits
}
