/**
 * Connecting to a Redis Cluster (ioredis `Cluster`): the seed nodes, and the settings every
 * node connection shares (ACL user and password, TLS, timeouts) as for a single Redis.
 */
import { Cluster, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis'

/**
 * Where a Redis Cluster is: a few of its nodes (`host:port`; any node will do, the others are
 * discovered), and the connection settings of every node.
 * @example { nodes: ['10.0.0.1:7000', '10.0.0.2:7000'], redisOptions: { username: 'app', password: 's3cret', tls: {} } }
 */
export interface RedisClusterConfig {
  /** Seed nodes, `host:port` or `{ host, port }`. */
  nodes: ReadonlyArray<string | { host: string; port: number }>
  /** Settings of every node connection: username, password, tls, connectTimeout, commandTimeout. */
  redisOptions?: RedisOptions
}

/** What `createRelay({ redisCluster })` takes: seed nodes, or {@link RedisClusterConfig}. */
export type RedisClusterTarget = ReadonlyArray<string> | RedisClusterConfig

/** Node settings the relay uses unless told otherwise (as for a single Redis). */
const nodeDefaults: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 5000,
}

/**
 * Reads a comma-separated list of `host:port` (`--redis-cluster`, `REDIS_CLUSTER_NODES`).
 * @throws Error naming `source` and the entry that is wrong.
 * @example parseClusterNodes('10.0.0.1:7000,10.0.0.2:7001', '--redis-cluster') // ['10.0.0.1:7000', '10.0.0.2:7001']
 */
export function parseClusterNodes(text: string, source: string): string[] {
  const nodes = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (nodes.length === 0) {
    throw new Error(`${source} needs at least one node as host:port, e.g. 10.0.0.1:7000,10.0.0.2:7000`)
  }
  for (const node of nodes) toClusterNode(node, source)
  return nodes
}

function toClusterNode(node: string | { host: string; port: number }, source: string): ClusterNode {
  if (typeof node !== 'string') return node
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(node)
  const port = Number(match?.[2])
  if (!match || port < 1 || port > 65535) {
    throw new Error(`${source}: each node must be host:port (port 1 to 65535), got ${JSON.stringify(node)}`)
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
}

/** The config for seed nodes or a config, normalised. */
export function clusterConfigOf(target: RedisClusterTarget): RedisClusterConfig {
  return isConfig(target) ? target : { nodes: [...target] }
}

function isConfig(target: RedisClusterTarget): target is RedisClusterConfig {
  return !Array.isArray(target)
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

/** A printable form of the cluster's seed nodes, password masked, for logs and messages. */
export function describeCluster(target: RedisClusterTarget): string {
  const config = clusterConfigOf(target)
  const scheme = config.redisOptions?.tls ? 'rediss' : 'redis'
  const user = config.redisOptions?.username ?? ''
  const auth = config.redisOptions?.password ? `${user}:***@` : user ? `${user}@` : ''
  const nodes = config.nodes.map((node) => (typeof node === 'string' ? node : `${node.host}:${node.port}`))
  return `cluster ${nodes.map((node) => `${scheme}://${auth}${node}`).join(',')}`
}
