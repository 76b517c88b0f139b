/**
 * The store a relay opens from its options: a Redis Cluster, one Redis, or the embedded
 * store; with Redis, a warning when an acknowledged update could be lost with one process.
 */
import type { Logger } from '../logger.ts'
import { EmbeddedStore } from './EmbeddedStore.ts'
import type { KeyspaceMode } from './Projection.ts'
import { RedisClusterStore } from './RedisClusterStore.ts'
import { RedisStore } from './RedisStore.ts'
import type { RedisClusterTarget } from './clusterNodes.ts'
import type { RedisTarget } from './redisUrl.ts'
import type { Store } from './Store.ts'

/** What {@link openStore} reads from the relay options. */
export interface OpenStoreOptions {
  redis?: RedisTarget | undefined
  redisCluster?: RedisClusterTarget | undefined
  prefix: string
  keyspace: KeyspaceMode
  ackReplicas?: number | undefined
}

/**
 * Connects to the cluster or Redis named (rejecting, with what to check, when unreachable),
 * or makes an embedded store.
 * @throws Error when both `redis` and `redisCluster` are given, or `ackReplicas` without Redis.
 */
export async function openStore(options: OpenStoreOptions, logger: Logger): Promise<Store> {
  const { redis, redisCluster, prefix, keyspace } = options
  const ackReplicas = options.ackReplicas ?? 0
  if (!Number.isSafeInteger(ackReplicas) || ackReplicas < 0) {
    throw new Error(`ackReplicas must be an integer of 0 or more, got ${String(options.ackReplicas)}`)
  }
  if (redis !== undefined && redisCluster !== undefined) {
    throw new Error('give either redis (one Redis) or redisCluster (a Redis Cluster), not both')
  }
  if (redis === undefined && redisCluster === undefined) {
    if (ackReplicas > 0) throw new Error('ackReplicas needs Redis: add redis or redisCluster (--redis, --redis-cluster)')
    return new EmbeddedStore({ prefix })
  }
  const store =
    redisCluster !== undefined
      ? await RedisClusterStore.connectCluster({ cluster: redisCluster, prefix, keyspace, ackReplicas })
      : await RedisStore.connect({ redis: redis!, prefix, keyspace, ackReplicas })
  const warning = await store.durabilityWarning().catch(() => null)
  if (warning) logger.warn(warning)
  return store
}
