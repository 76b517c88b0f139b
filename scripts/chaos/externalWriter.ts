/**
 * The external writer: plain Redis (ioredis) SET/DEL on projection keys
 * `memory:<name>:ext_<n>`, as a Python service or redis-cli would. No client writes ext_
 * keys, so the last write Redis acknowledged on a key must be what every copy shows.
 *
 * A command that fails or times out may still be applied later (a paused Redis reads it
 * when it resumes), so after such an uncertain write the key is retired: nothing writes it
 * again, and the check accepts either its last acknowledged value or the uncertain one.
 */
import { Cluster } from 'ioredis'
import { type RedisLike, connectRedis } from './redisTarget.ts'
import type { Json } from '@remem/client/protocol'
import { Journal, type ExternalEntry } from './journal.ts'
import type { Prng } from './prng.ts'
import { sleep } from './processes.ts'

/** Figures of the external writer. */
export interface ExternalFigures {
  made: number
  acked: number
  uncertain: number
}

export class ExternalWriter {
  private redis: RedisLike
  private readonly journal: Journal<ExternalEntry>
  private readonly slots: Array<{ mem: string; n: number }>
  private nextKey = 0
  private seq = 0
  private stopping = false
  private loop: Promise<void> = Promise.resolve()
  readonly figures: ExternalFigures = { made: 0, acked: 0, uncertain: 0 }

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    memories: string[],
    private readonly prng: Prng,
    journalPath: string,
    slots = 4,
  ) {
    this.redis = this.connect()
    this.journal = new Journal(journalPath)
    this.slots = Array.from({ length: slots }, (_, i) => ({ mem: memories[i % memories.length]!, n: this.nextKey++ }))
  }

  /** Starts writing: one command every 80–300 ms, each waited for (2 s at most). */
  start(): void {
    this.loop = this.run()
  }

  /** Stops writing once the command in flight is answered or timed out. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.loop
    this.journal.close()
    this.redis.disconnect()
  }

  private connect(): RedisLike {
    const redis = connectRedis(this.redisUrl, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => 200,
      lazyConnect: false,
    })
    redis.on('error', () => undefined)
    return redis
  }

  /**
   * SET or DEL `key`. On a cluster the write is acknowledged only once a replica holds it
   * (WAIT 1 on the same node, in one pipeline), as the relays' acks are: a write that a
   * failover can still undo counts as uncertain.
   */
  private async write(key: string, value: Json | undefined): Promise<void> {
    if (!(this.redis instanceof Cluster)) {
      await (value === undefined ? this.redis.del(key) : this.redis.set(key, JSON.stringify({ value, last_modified: Date.now() * 1_000_000 })))
      return
    }
    const pipeline = this.redis.pipeline()
    if (value === undefined) pipeline.del(key)
    else pipeline.set(key, JSON.stringify({ value, last_modified: Date.now() * 1_000_000 }))
    const replies = await pipeline.call('WAIT', '1', '1500').exec()
    const failed = replies?.find(([error]) => error)?.[0]
    if (!replies || failed) throw failed ?? new Error('no reply')
    if (Number(replies[1]![1]) < 1) throw new Error('WAIT 1: no replica acknowledged the write')
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.prng.int(80, 300))
      if (this.stopping || this.redis.status !== 'ready') continue
      const slot = this.prng.pick(this.slots)
      const key = `${this.prefix}${slot.mem}:ext_${slot.n}`
      const seq = ++this.seq
      const roll = this.prng.next()
      const value: Json | undefined = roll < 0.1 ? undefined : roll < 0.6 ? seq : `x-${seq}`
      this.journal.write({ t: 'M', seq, key, ...(value === undefined ? {} : { value }), at: Date.now() })
      this.figures.made++
      const command = this.write(key, value)
      const outcome = await Promise.race([
        command.then(
          () => 'ok',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
        sleep(2000).then(() => 'timed out after 2 s'),
      ])
      if (outcome === 'ok') {
        this.journal.write({ t: 'A', seq, at: Date.now() })
        this.figures.acked++
        continue
      }
      this.journal.write({ t: 'U', seq, why: outcome, at: Date.now() })
      this.figures.uncertain++
      slot.n = this.nextKey++
      // A new connection, so that the old one cannot resend the uncertain command later.
      this.redis.disconnect()
      this.redis = this.connect()
    }
  }
}
