/**
 * A Redis Cluster named on the command line or in the environment: `--redis-cluster` or
 * `REDIS_CLUSTER_NODES` (comma-separated `host:port`), with the same ACL, TLS and timeout
 * settings as a single Redis (`REDIS_USERNAME`, `REDIS_PASSWORD`, `--redis-tls`, …).
 */
import { type RedisFlags, redisConfigFrom } from './redisConfig.ts'
import { type RedisClusterConfig, parseClusterNodes } from './store/clusterNodes.ts'

type Env = Readonly<Record<string, string | undefined>>

/**
 * The cluster to connect to, or `undefined` when none is named.
 * @throws Error naming the flag or variable that is wrong, or when a single Redis is named too.
 * @example redisClusterConfigFrom({}, { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000', REDIS_PASSWORD: 's3cret' })
 * // { nodes: ['10.0.0.1:7000', '10.0.0.2:7000'], redisOptions: { password: 's3cret' } }
 */
export function redisClusterConfigFrom(
  flags: RedisFlags & { nodes?: string | undefined },
  env: Env,
  readFile?: (path: string) => string,
): RedisClusterConfig | undefined {
  const fromEnv = env.REDIS_CLUSTER_NODES === '' ? undefined : env.REDIS_CLUSTER_NODES
  const text = flags.nodes ?? fromEnv
  if (text === undefined) return undefined
  const source = flags.nodes !== undefined ? '--redis-cluster' : 'REDIS_CLUSTER_NODES'
  const url = flags.url !== undefined ? '--redis' : env.REDIS_URL ? 'REDIS_URL' : undefined
  if (url) throw new Error(`${source} and ${url} both name Redis: give a cluster or a single Redis, not both`)
  for (const name of ['REDIS_HOST', 'REDIS_PORT', 'REDIS_DB'] as const) {
    if (env[name]) throw new Error(`${name} does not apply to a Redis Cluster (${source} names its nodes; db is always 0)`)
  }
  const nodes = parseClusterNodes(text, source)
  // The settings of a single Redis, read as usual, become those of every node.
  const single = redisConfigFrom({ ...flags, url: undefined }, { ...env, REDIS_URL: undefined, REDIS_HOST: 'cluster' }, readFile)
  const { host: _host, port: _port, ...redisOptions } = typeof single === 'object' ? single : {}
  return Object.keys(redisOptions).length > 0 ? { nodes, redisOptions } : { nodes }
}
