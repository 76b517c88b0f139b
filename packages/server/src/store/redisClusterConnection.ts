/** Connecting to a Redis Cluster through ioredis `Cluster`. */
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis'
import { type RedisClusterTarget, clusterConfigOf, toClusterNode } from './clusterNodes.ts'

/** Node settings the relay uses unless told otherwise (as for a single Redis). */
const nodeDefaults: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 5000,
}

/**
 * A Cluster connection. Slots are refreshed every second, so a promoted replica is found
 * soon after a failover even by a connection that sends nothing meanwhile.
 */
export function createClusterConnection(target: RedisClusterTarget, extra: ClusterOptions = {}): Cluster {
  const config = clusterConfigOf(target)
  const nodes = config.nodes.map((node) => toClusterNode(node, 'redisCluster'))
  if (nodes.length === 0) throw new Error('redisCluster needs at least one node as host:port')
  const redisOptions = { ...nodeDefaults, ...config.redisOptions }
  const options: ClusterOptions = {
    slotsRefreshInterval: 1000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    ...extra,
    redisOptions,
  }
  // Certificates name the hosts given, so TLS connections must not be made to resolved IPs.
  if (redisOptions.tls) options.dnsLookup = (address, callback) => callback(null, address)
  return new Cluster(nodes, options)
}

