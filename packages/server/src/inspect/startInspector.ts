/**
 * Turns a relay's inspector on (`createRelay({ inspect: true })`, `remem-relay --inspect`):
 * counts per memory through the rooms' events, hears refusals through the logger, and
 * serves `/inspect` (inspectRoutes.ts). With Redis it opens one more connection, for SCAN
 * and the sizes it shows; `close()` ends it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Redis } from 'ioredis'
import type { AccessPolicy } from '../auth/AccessPolicy.ts'
import type { Relay } from '../Relay.ts'
import type { RedisTarget } from '../store/redisUrl.ts'
import { ioredisArguments } from '../store/redisUrl.ts'
import { inspectRoutes } from './inspectRoutes.ts'
import type { RelayInspector } from './RelayInspector.ts'

export interface RunningInspector {
  /** Answers `/inspect*` requests; false for other paths. */
  handle(request: IncomingMessage, response: ServerResponse): boolean
  close(): Promise<void>
}

export function startInspector(
  relay: Relay,
  inspector: RelayInspector,
  options: { redis: RedisTarget | undefined; prefix: string; policy: AccessPolicy },
): RunningInspector {
  relay.roomEvents = (name) => {
    // Called as a room is created; once it is loaded, its updates join the live tail.
    // (openRoom hands back the room being opened, and opens nothing more.)
    queueMicrotask(() => {
      relay.openRoom(name).then(
        (room) => inspector.follow(room),
        () => undefined,
      )
    })
    return inspector.roomEvents(name, relay.metrics)
  }
  let redis: Redis | null = null
  if (relay.store.kind === 'redis') {
    if (options.redis !== undefined) {
      const { url, options: redisOptions } = ioredisArguments(options.redis)
      const settings = { ...redisOptions, lazyConnect: false, maxRetriesPerRequest: 2 }
      redis = url === undefined ? new Redis(settings) : new Redis(url, settings)
      // ioredis reconnects; a failed read shows as an error on the page.
      redis.on('error', () => undefined)
    } else {
      // A ready RedisStore was given: read through its connection.
      const own = (relay.store as unknown as { redis?: unknown }).redis
      if (own instanceof Redis) redis = own
    }
  }
  const ownsRedis = options.redis !== undefined
  const handle = inspectRoutes({ relay, inspector, redis, prefix: options.prefix }, options.policy)
  return {
    handle,
    async close() {
      if (ownsRedis) await redis?.quit().catch(() => redis?.disconnect())
    },
  }
}
