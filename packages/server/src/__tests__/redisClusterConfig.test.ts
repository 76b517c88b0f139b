import { describe, expect, it } from 'vitest'
import { CliUsageError, parseCliArgs } from '../cliArgs.ts'
import { redisClusterConfigFrom } from '../redisClusterConfig.ts'
import { describeCluster, parseClusterNodes } from '../store/clusterNodes.ts'

function run(argv: string[], env: Record<string, string> = {}) {
  const command = parseCliArgs(argv, env, (path) => `CA from ${path}`)
  if (command.kind !== 'run') throw new Error(`expected run, got ${command.kind}`)
  return command.options
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCliArgs(argv, env)
  } catch (error) {
    expect(error).toBeInstanceOf(CliUsageError)
    return (error as Error).message
  }
  throw new Error('expected a CliUsageError')
}

describe('Redis Cluster settings', () => {
  it('reads --redis-cluster over REDIS_CLUSTER_NODES, with ACL, TLS and timeouts for every node', () => {
    expect(run(['--redis-cluster', '10.0.0.1:7000, 10.0.0.2:7001']).redisCluster).toEqual({
      nodes: ['10.0.0.1:7000', '10.0.0.2:7001'],
    })
    const options = run(['--redis-cluster', 'a:1', '--redis-tls-ca', '/ca.pem', '--redis-command-timeout-ms', '900'], {
      REDIS_CLUSTER_NODES: 'ignored:2',
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: 's3cret',
    })
    expect(options.redis).toBeUndefined()
    expect(options.redisCluster).toEqual({
      nodes: ['a:1'],
      redisOptions: { username: 'app', password: 's3cret', commandTimeout: 900, tls: { ca: 'CA from /ca.pem' } },
    })
    expect(run([], { REDIS_CLUSTER_NODES: '[::1]:7000' }).redisCluster).toEqual({ nodes: ['[::1]:7000'] })
  })

  it('reads --ack-replicas and REMEM_ACK_REPLICAS as a count', () => {
    expect(run(['--redis-cluster', 'a:1', '--ack-replicas', '1']).ackReplicas).toBe(1)
    expect(run([], { REDIS_URL: 'redis://h:1', REMEM_ACK_REPLICAS: '2' }).ackReplicas).toBe(2)
    expect(usageError(['--ack-replicas', 'one'])).toMatch(/--ack-replicas must be an integer/)
  })

  it('names what is wrong: a bad node, a cluster and a single Redis together, db or host', () => {
    expect(usageError(['--redis-cluster', 'a:1,b'])).toMatch(/--redis-cluster: each node must be host:port.*"b"/)
    expect(usageError(['--redis-cluster', ','])).toMatch(/--redis-cluster needs at least one node/)
    expect(usageError(['--redis-cluster', 'a:1', '--redis', 'redis://h:1'])).toMatch(
      /--redis-cluster and --redis both name Redis/,
    )
    expect(usageError([], { REDIS_CLUSTER_NODES: 'a:1', REDIS_DB: '2' })).toMatch(/REDIS_DB does not apply/)
    expect(() => redisClusterConfigFrom({}, { REDIS_CLUSTER_NODES: 'a:99999' })).toThrow(/port 1 to 65535/)
  })

  it('describes the nodes with the password masked', () => {
    expect(parseClusterNodes('h:1,h:2', 'x')).toEqual(['h:1', 'h:2'])
    expect(describeCluster({ nodes: ['h:1', { host: 'g', port: 2 }], redisOptions: { username: 'u', password: 'p', tls: {} } })).toBe(
      'cluster rediss://u:***@h:1,rediss://u:***@g:2',
    )
  })
})
