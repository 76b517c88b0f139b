/**
 * Presence between relays: a channel per memory (`remem:{<prefix><name>}:presence`, in the
 * memory's slot) carrying awareness frames that are never stored. On a Redis Cluster it is a
 * shard channel (SPUBLISH/SSUBSCRIBE), else classic pub/sub. It has its own subscriber
 * connection, so that presence never delays updates.
 */
import type { Cluster, Redis } from 'ioredis'
import { handleResubscriptions, whenReady } from './redisReady.ts'

/** Sends and receives presence messages of memories among relays. */
export interface PresenceBus {
  /** Sends `message` to every relay subscribed to `name` (this one included). */
  publish(name: string, message: Buffer): Promise<void>
  /** Calls `listener` with every message published for `name`. Returns the unsubscribe. */
  subscribe(name: string, listener: (message: Buffer) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

/** A {@link PresenceBus} on Redis or a Redis Cluster. */
export class RedisPresenceBus implements PresenceBus {
  private subscriber: Redis | Cluster | null = null
  private readonly listeners = new Map<string, Set<(message: Buffer) => void>>()
  private closed = false

  /**
   * @param redis The store's command connection (publishing goes through it).
   * @param sharded Use shard channels (a cluster).
   * @param channelOf The channel of a memory.
   */
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly sharded: boolean,
    private readonly channelOf: (name: string) => string,
  ) {}

  async publish(name: string, message: Buffer): Promise<void> {
    const channel = this.channelOf(name)
    if (this.sharded) await (this.redis as Cluster).spublish(channel, message)
    else await this.redis.publish(channel, message)
  }

  async subscribe(name: string, listener: (message: Buffer) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('the presence bus is closed')
    const channel = this.channelOf(name)
    const subscriber = this.connection()
    let listeners = this.listeners.get(channel)
    if (!listeners) {
      listeners = new Set()
      this.listeners.set(channel, listeners)
      await whenReady(subscriber as Redis)
      if (this.sharded) await (subscriber as Cluster).ssubscribe(channel)
      else await subscriber.subscribe(channel)
    }
    listeners.add(listener)
    return async () => {
      const current = this.listeners.get(channel)
      if (!current?.delete(listener) || current.size > 0) return
      this.listeners.delete(channel)
      if (this.closed) return
      const unsubscribed = this.sharded ? (subscriber as Cluster).sunsubscribe(channel) : subscriber.unsubscribe(channel)
      await unsubscribed.catch(() => undefined)
    }
  }

  private connection(): Redis | Cluster {
    if (this.subscriber) return this.subscriber
    const subscriber = this.sharded
      ? (this.redis as Cluster).duplicate(undefined, { shardedSubscribers: true })
      : handleResubscriptions((this.redis as Redis).duplicate())
    subscriber.on('error', () => undefined)
    subscriber.on(this.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, message: Buffer) => {
      for (const listener of [...(this.listeners.get(channel.toString()) ?? [])]) listener(message)
    })
    this.subscriber = subscriber
    return subscriber
  }

  async close(): Promise<void> {
    this.closed = true
    this.listeners.clear()
    this.subscriber?.disconnect()
    this.subscriber = null
  }
}
