/**
 * Keyspace notifications of a Redis Cluster. Each node notifies only the changes of its own
 * slots, so the relay subscribes on every primary, and follows the topology: a promoted
 * replica or an added primary gets a subscriber (and the notification flags), a node that is
 * no longer primary loses its own. Whenever the set changes, or a subscriber reconnects,
 * events may have been missed meanwhile, and `onGap` asks the caller to reconcile.
 */
import { Redis } from 'ioredis'
import type { Cluster } from 'ioredis'
import { mergeFlags } from './RedisProjection.ts'
import { whenReady } from './redisReady.ts'

/** Options of {@link ClusterNotifications}. */
export interface ClusterNotificationsOptions {
  cluster: Cluster
  /** PSUBSCRIBE pattern, e.g. `__keyspace@0__:memory:*`. */
  pattern: string
  onEvent(channel: string, event: string): void
  /** Events may have been missed (topology change, subscriber reconnected). */
  onGap(): void
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`
}

/** Follows keyspace notifications on every primary of a cluster. */
export class ClusterNotifications {
  private readonly subscribers = new Map<string, Redis>()
  private chain: Promise<void> = Promise.resolve()
  private stopped = false
  private readonly onTopology = (): void => {
    this.chain = this.chain.then(() => this.sync(true)).catch(() => undefined)
  }

  constructor(private readonly options: ClusterNotificationsOptions) {}

  /**
   * Adds the flags remem needs to `notify-keyspace-events` on each node. Where CONFIG is not
   * allowed (managed Redis), says exactly what to set.
   */
  static async configure(nodes: Redis[]): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        const reply = (await node.config('GET', 'notify-keyspace-events').catch(() => null)) as string[] | null
        const current = reply?.[1] ?? ''
        const wanted = mergeFlags(current)
        if (reply && wanted === current) return
        try {
          await node.config('SET', 'notify-keyspace-events', wanted)
        } catch (error) {
          throw new Error(
            `Redis Cluster node ${nodeKey(node)} refused CONFIG SET notify-keyspace-events ` +
              `(${(error as Error).message}). Set notify-keyspace-events ${wanted} on every node ` +
              "(redis.conf or your provider's parameter group), or start the relay with " +
              '--keyspace off to find external changes by periodic reconcile instead.',
            { cause: error },
          )
        }
      }),
    )
  }

  /** Configures every node and subscribes on every primary. */
  async start(): Promise<void> {
    const { cluster } = this.options
    await ClusterNotifications.configure(cluster.nodes('all'))
    await this.sync(false)
    cluster.on('refresh', this.onTopology)
    cluster.on('+node', this.onTopology)
    cluster.on('-node', this.onTopology)
  }

  /** Subscribes on new primaries and drops subscribers of nodes that no longer are. */
  private async sync(reportGap: boolean): Promise<void> {
    if (this.stopped) return
    const primaries = new Map(this.options.cluster.nodes('master').map((node) => [nodeKey(node), node]))
    let changed = false
    for (const [key, subscriber] of this.subscribers) {
      if (primaries.has(key)) continue
      this.subscribers.delete(key)
      subscriber.disconnect()
      changed = true
    }
    for (const [key, node] of primaries) {
      if (this.subscribers.has(key)) continue
      changed = true
      try {
        await ClusterNotifications.configure([node])
        await this.subscribe(key, node)
      } catch {
        // Not reachable now; the next topology refresh tries again.
        this.subscribers.get(key)?.disconnect()
        this.subscribers.delete(key)
      }
    }
    if (changed && reportGap && !this.stopped) this.options.onGap()
  }

  private async subscribe(key: string, node: Redis): Promise<void> {
    // The node's own options carry the cluster's settings (TLS, user, password).
    const subscriber = new Redis({
      ...node.options,
      readOnly: false,
      lazyConnect: true,
      // Re-subscribed in 'ready' below: ioredis' own re-PSUBSCRIBE is a promise nobody
      // handles, and its "Connection is closed" rejection would end the process.
      autoResubscribe: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    })
    this.subscribers.set(key, subscriber)
    subscriber.on('error', () => undefined)
    subscriber.on('pmessage', (_pattern: string, channel: string, event: string) => {
      this.options.onEvent(channel, event)
    })
    let connectedOnce = false
    subscriber.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true
        return
      }
      // A failure here means the connection is gone again: the next 'ready' subscribes again.
      subscriber.psubscribe(this.options.pattern).catch(() => undefined)
      // Reconnected: events were missed, and a restarted node forgets CONFIG SET.
      void ClusterNotifications.configure([node])
        .catch(() => undefined)
        .then(() => {
          if (!this.stopped) this.options.onGap()
        })
    })
    await whenReady(subscriber)
    await subscriber.psubscribe(this.options.pattern)
  }

  /** Unsubscribes everywhere. */
  async stop(): Promise<void> {
    this.stopped = true
    const { cluster } = this.options
    cluster.off('refresh', this.onTopology)
    cluster.off('+node', this.onTopology)
    cluster.off('-node', this.onTopology)
    await this.chain
    for (const subscriber of this.subscribers.values()) subscriber.disconnect()
    this.subscribers.clear()
  }
}
