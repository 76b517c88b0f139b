/**
 * The store on a Redis Cluster. Each memory's log, snapshot and broadcast channel share its
 * hash tag `{<prefix><name>}`, so every script runs in one slot; relays exchange updates by
 * sharded pub/sub (SPUBLISH from the append script, SSUBSCRIBE on the node serving the slot),
 * so a message crosses one shard instead of every node. The projection is ClusterProjection.
 */
import type { Cluster, Redis } from 'ioredis'
import { ClusterProjection } from './ClusterProjection.ts'
import type { KeyspaceMode } from './Projection.ts'
import type { RedisProjection } from './RedisProjection.ts'
import { RedisStore, type RedisStoreOptions } from './RedisStore.ts'
import { type RedisClusterTarget, describeCluster } from './clusterNodes.ts'
import { createClusterConnection } from './redisClusterConnection.ts'
import { appendScript } from './redisScripts.ts'
import { writeOncePerTurn } from './writesPerTurn.ts'

/** Options of {@link RedisClusterStore.connectCluster}. */
export interface RedisClusterStoreOptions extends Omit<RedisStoreOptions, 'redis'> {
  /** Seed nodes (`host:port`), or nodes with the settings of every node connection. */
  cluster: RedisClusterTarget
  /**
   * How long to wait for the cluster to answer before giving up. Longer than for one Redis:
   * a relay started during a failover waits for it (the node timeout, 15 s by default, plus
   * the election) instead of exiting. @default 30000
   */
  timeoutMs?: number
}

/** The append script, publishing on the memory's shard channel instead of to every node. */
const shardedAppendScript = appendScript.replace("redis.call('PUBLISH',", "redis.call('SPUBLISH',")
if (shardedAppendScript === appendScript) {
  throw new Error('redisScripts.appendScript no longer calls PUBLISH as RedisClusterStore expects')
}

/** The store on a Redis Cluster; see the file comment. */
export class RedisClusterStore extends RedisStore {
  private readonly cluster: Cluster
  private knownPrimaries = ''

  /**
   * A store on the cluster, connecting in the background; prefer {@link connectCluster},
   * which waits until the cluster answers.
   */
  constructor(options: RedisClusterStoreOptions, cluster: Cluster = createClusterConnection(options.cluster)) {
    super({ ...options, redis: cluster as unknown as Redis })
    this.cluster = cluster
    this.location = describeCluster(options.cluster)
    this.ownsConnection = true
    // Each node's commands of one event-loop turn leave in one socket write (writesPerTurn.ts).
    for (const node of cluster.nodes()) writeOncePerTurn(node)
    cluster.on('+node', (node: Redis) => writeOncePerTurn(node))
  }

  /**
   * Connects to the cluster and waits until it answers. Rejects within `timeoutMs` naming
   * the seed nodes (password masked).
   * @example const store = await RedisClusterStore.connectCluster({ cluster: ['10.0.0.1:7000', '10.0.0.2:7000'] })
   */
  static async connectCluster(options: RedisClusterStoreOptions): Promise<RedisClusterStore> {
    const cluster = createClusterConnection(options.cluster, { lazyConnect: true })
    const store = new RedisClusterStore(options, cluster)
    return RedisStore.whenReachable(store, options.timeoutMs ?? 30_000, async () => {
      await cluster.connect()
      await cluster.ping()
    })
  }

  protected override get appendLua(): string {
    return shardedAppendScript
  }

  protected override primaries(): Redis[] {
    return this.cluster.nodes('master')
  }

  protected override createProjection(redis: Redis, keyspace: KeyspaceMode): RedisProjection {
    return new ClusterProjection({ cluster: redis as unknown as Cluster, prefix: this.prefix, keyspace, ...this.replication })
  }

  /**
   * A second cluster client with one sharded subscriber per primary. It counts as down while
   * a primary's subscriber is lost; once ioredis has re-subscribed on the new topology it is
   * up again, and rooms then catch up from the log what the broadcast missed meanwhile.
   */
  protected override subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber
    const subscriber = this.cluster.duplicate(undefined, { shardedSubscribers: true })
    subscriber.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
      this.deliver(channel.toString(), message)
    })
    subscriber.on('error', (error: Error) => {
      this.lastError = error
    })
    subscriber.on('subscribersReady', () => {
      const primaries = subscriber
        .nodes('master')
        .map((node) => `${node.options.host}:${node.options.port}`)
        .sort()
        .join(',')
      if (primaries === this.knownPrimaries) return
      const first = this.knownPrimaries === ''
      this.knownPrimaries = primaries
      if (first) return
      // The primaries changed (failover, node added): report the gap as down and up again.
      this.setSubscriberUp(false)
      this.setSubscriberUp(true)
    })
    this.subscriber = subscriber as unknown as Redis
    return this.subscriber
  }

  protected override subscribeChannel(subscriber: Redis, channel: string): Promise<unknown> {
    return (subscriber as unknown as Cluster).ssubscribe(channel)
  }

  protected override unsubscribeChannel(subscriber: Redis, channel: string): Promise<unknown> {
    return (subscriber as unknown as Cluster).sunsubscribe(channel)
  }
}
