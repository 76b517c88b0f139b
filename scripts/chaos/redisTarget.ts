/**
 * Where a chaos run's data lives: one redis-server (`redis://…`) or a Redis Cluster
 * (`cluster:host:port,host:port,…`, from `--cluster`). The harness's own readers and the
 * external writer connect through {@link connectRedis}, relays get {@link relayRedisArgs}.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis'

/** A connection to either kind of target. */
export type RedisLike = Redis | Cluster

const CLUSTER = 'cluster:'

/** The target string of a cluster whose nodes are `seeds` (`host:port`). */
export const clusterTarget = (seeds: string[]): string => `${CLUSTER}${seeds.join(',')}`

export const isCluster = (target: string): boolean => target.startsWith(CLUSTER)

/**
 * The relay's arguments for `target`. On a cluster every ack waits for one replica
 * (`--ack-replicas 1`), so that it survives the failover the fault loop causes.
 */
export function relayRedisArgs(target: string): string[] {
  return isCluster(target) ? ['--redis-cluster', target.slice(CLUSTER.length), '--ack-replicas', '1'] : ['--redis', target]
}

/** Connects to `target` with `options` (per node on a cluster). */
export function connectRedis(target: string, options: RedisOptions): RedisLike {
  if (!isCluster(target)) return new Redis(target, options)
  const nodes = target
    .slice(CLUSTER.length)
    .split(',')
    .map((seed) => ({ host: seed.split(':')[0]!, port: Number(seed.split(':')[1]) }))
  // The cluster reconnects its nodes itself; these two are cluster-level options.
  const { retryStrategy: _retry, enableOfflineQueue, ...redisOptions } = options
  return new Cluster(nodes, {
    redisOptions,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: () => 200,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
  })
}

/** Every key matching `pattern`: SCAN on each primary of a cluster, on the server otherwise. */
export async function scanAll(redis: RedisLike, pattern: string): Promise<string[]> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis]
  const keys: string[] = []
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      keys.push(...batch)
    } while (cursor !== '0')
  }
  return keys
}

/** GET of every key (MGET would span slots on a cluster). */
export function getAll(redis: RedisLike, keys: string[]): Promise<Array<string | null>> {
  if (keys.length === 0) return Promise.resolve([])
  return redis instanceof Cluster ? Promise.all(keys.map((key) => redis.get(key))) : redis.mget(...keys)
}
