/**
 * Naming a Redis Cluster: its seed nodes, and the settings every node connection shares
 * (ACL user and password, TLS, timeouts) as for a single Redis. Free of ioredis at runtime,
 * so that the CLI can read its arguments without loading it.
 */
import type { ClusterNode, RedisOptions } from 'ioredis'

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

export function toClusterNode(node: string | { host: string; port: number }, source: string): ClusterNode {
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

/** A printable form of the cluster's seed nodes, password masked, for logs and messages. */
export function describeCluster(target: RedisClusterTarget): string {
  const config = clusterConfigOf(target)
  const scheme = config.redisOptions?.tls ? 'rediss' : 'redis'
  const user = config.redisOptions?.username ?? ''
  const auth = config.redisOptions?.password ? `${user}:***@` : user ? `${user}@` : ''
  const nodes = config.nodes.map((node) => (typeof node === 'string' ? node : `${node.host}:${node.port}`))
  return `cluster ${nodes.map((node) => `${scheme}://${auth}${node}`).join(',')}`
}
