import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type RedisServer, startRedis } from './redisServer.ts'

const run = promisify(execFile)

/** One `redis-server --cluster-enabled yes` process of a {@link RedisCluster}. */
export interface ClusterNode {
  readonly host: '127.0.0.1'
  readonly port: number
  /** The process; `kill()` crashes it, `restart()` brings it back (it rejoins as a replica). */
  readonly server: RedisServer
}

/** Options of {@link startRedisCluster}. */
export interface StartClusterOptions {
  /** Primaries. @default 3 */
  primaries?: number
  /** Replicas per primary. @default 1 */
  replicas?: number
  /** Extra `redis-server` arguments for every node. */
  args?: string[]
}

/** A Redis Cluster of local processes, started for a test. */
export interface RedisCluster {
  /** Every node, primaries and replicas, in start order. */
  readonly nodes: readonly ClusterNode[]
  /** `host:port` of every node, as `--redis-cluster` takes them. */
  readonly seeds: string[]
  /** The node currently serving `key`'s slot as primary. */
  primaryOf(key: string): Promise<ClusterNode>
  /** The running primaries. */
  primaries(): Promise<ClusterNode[]>
  /**
   * Kills (SIGKILL) the primary serving `key`'s slot and resolves once a replica has been
   * promoted and every running node reports `cluster_state:ok`. Returns the killed node.
   */
  killPrimaryOf(key: string): Promise<ClusterNode>
  /**
   * Restarts a killed node; it rejoins as a replica of whoever took its slots. Resolves once
   * it is in sync with its primary.
   */
  rejoin(node: ClusterNode): Promise<void>
  /** Resolves once every running node reports `cluster_state:ok` and agrees on slot owners. */
  waitHealthy(timeoutMs?: number): Promise<void>
  /** Stops every node and removes their directories. */
  stop(): Promise<void>
}

/** A short-lived connection to one node, closed after `use`. */
async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    lazyConnect: true,
  })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    return await use(redis)
  } finally {
    redis.disconnect()
  }
}

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const text = (await onNode(port, (redis) => redis.cluster('INFO'))) as string
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => line.split(':', 2) as [string, string]),
  )
}

/** Which port serves `slot` as primary, according to the node on `port`. */
async function ownerOf(port: number, slot: number): Promise<number | null> {
  const slots = await onNode(port, (redis) => redis.cluster('SLOTS'))
  const range = slots.find(([from, to]) => slot >= from && slot <= to)
  return range?.[2] ? range[2][1] : null
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`Redis Cluster: timed out waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Starts a Redis Cluster of `redis-server --cluster-enabled yes` processes on free ports
 * of 127.0.0.1 (3 primaries with 1 replica each unless told otherwise), forms it with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok`
 * and every replica is in sync. Nodes fail over after 1 s without their primary.
 */
export async function startRedisCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  const primaryCount = options.primaries ?? 3
  const replicas = options.replicas ?? 1
  const total = primaryCount * (1 + replicas)
  const args = [
    ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
    ...['--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0'],
    ...['--cluster-require-full-coverage', 'no', '--cluster-allow-reads-when-down', 'no'],
    ...(options.args ?? []),
  ]
  const servers = await Promise.all(Array.from({ length: total }, () => startRedis({ args })))
  const nodes: ClusterNode[] = servers.map((server) => ({ host: '127.0.0.1', port: server.port, server }))
  const alive = (): ClusterNode[] => nodes.filter((node) => node.server.pid !== undefined)

  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()))
  }

  const waitHealthy = async (timeoutMs = 20_000): Promise<void> => {
    await until(
      'cluster_state:ok on every node',
      async () => {
        const running = alive()
        const infos = await Promise.all(running.map((node) => clusterInfo(node.port)))
        if (!infos.every((info) => info.cluster_state === 'ok')) return false
        // Every node must agree on who serves each slot range's first slot.
        const owners = await Promise.all(running.map((node) => ownerOf(node.port, 0)))
        const others = await Promise.all(running.map((node) => ownerOf(node.port, 16383)))
        return new Set(owners).size === 1 && new Set(others).size === 1 && owners[0] !== null
      },
      timeoutMs,
    )
  }

  const primaries = async (): Promise<ClusterNode[]> => {
    const result: ClusterNode[] = []
    for (const node of alive()) {
      const role = await onNode(node.port, (redis) => redis.role()).catch(() => null)
      if (role?.[0] === 'master') result.push(node)
    }
    return result
  }

  const slotOf = async (key: string): Promise<number> =>
    Number(await onNode(alive()[0]!.port, (redis) => redis.cluster('KEYSLOT', key)))

  const primaryOf = async (key: string): Promise<ClusterNode> => {
    const slot = await slotOf(key)
    const port = await ownerOf(alive()[0]!.port, slot)
    const node = nodes.find((candidate) => candidate.port === port)
    if (!node) throw new Error(`Redis Cluster: no primary serves slot ${slot}`)
    return node
  }

  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `${node.host}:${node.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
      throw new Error('redis-cli not found: it comes with redis-server (Debian: apt-get install redis-tools)')
    })
    await waitHealthy()
    await until(
      'replicas in sync',
      async () => {
        const infos = await Promise.all(
          nodes.map((node) => onNode(node.port, (redis) => redis.info('replication'))),
        )
        const synced = infos.filter((info) => /master_link_status:up/.test(info)).length
        return synced === primaryCount * replicas
      },
      20_000,
    )
  } catch (error) {
    await stop()
    throw error
  }

  return {
    nodes,
    seeds: nodes.map((node) => `${node.host}:${node.port}`),
    primaryOf,
    primaries,
    async killPrimaryOf(key) {
      const slot = await slotOf(key)
      const victim = await primaryOf(key)
      victim.server.kill()
      await until(
        `a replica promoted for slot ${slot}`,
        async () => {
          const running = alive().filter((node) => node !== victim)
          const owners = await Promise.all(running.map((node) => ownerOf(node.port, slot)))
          return owners.every((port) => port !== null && port !== victim.port)
        },
        20_000,
      )
      await waitHealthy()
      return victim
    },
    async rejoin(node) {
      await node.server.restart()
      await until(
        `${node.port} in sync as a replica`,
        async () => /master_link_status:up/.test(await onNode(node.port, (redis) => redis.info('replication'))),
        20_000,
      )
      await waitHealthy()
    },
    waitHealthy,
    stop,
  }
}

/**
 * For a test file: one cluster started before its tests and stopped after them, and
 * `cleanups` run (last first) after each test.
 */
export function useRedisCluster(options: StartClusterOptions = {}): {
  readonly cluster: RedisCluster
  readonly cleanups: Array<() => Promise<unknown>>
} {
  let cluster: RedisCluster | undefined
  const cleanups: Array<() => Promise<unknown>> = []
  beforeAll(async () => {
    cluster = await startRedisCluster(options)
  })
  afterAll(async () => {
    await cluster?.stop()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return {
    get cluster() {
      if (!cluster) throw new Error('the Redis Cluster is not started yet (use it inside a test)')
      return cluster
    },
    cleanups,
  }
}
