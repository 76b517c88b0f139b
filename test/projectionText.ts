/** Projection keys as other Redis clients see them: the wrapped text `{value, last_modified}`. */
import type { Redis } from 'ioredis'

/** The text another Redis client writes to set a projection key to `value`. */
export const wrappedText = (value: unknown): string => JSON.stringify({ value, last_modified: 1_700_000_000_000_000_000 })

/** The value projection key `key` holds (undefined when it is absent). */
export async function projectedValue(redis: Pick<Redis, 'get'>, key: string): Promise<unknown> {
  const text = await redis.get(key)
  return text === null ? undefined : (JSON.parse(text) as { value: unknown }).value
}
