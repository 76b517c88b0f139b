/**
 * A diagnostic, not a check: samples each memory's `proj` hash every 100 ms and logs every
 * ingest lease it sees (`lease|<relay>|<until>|<record read>|<replaced>`). Only ext_ keys are written
 * outside remem, so a lease on a writer's key means a relay took a value that relays wrote
 * for an external change; `leases.log` then shows when, next to faults.log.
 */
import { appendFileSync } from 'node:fs'
import { type RedisLike, connectRedis } from './redisTarget.ts'
import { sleep } from './processes.ts'

export class LeaseWatcher {
  private readonly redis: RedisLike
  private stopping = false
  private readonly seen = new Set<string>()
  private loop: Promise<void> = Promise.resolve()
  /** Distinct leases seen on keys no external writer writes. */
  clientKeyLeases = 0

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly memories: string[],
    private readonly logFile: string,
  ) {
    this.redis = connectRedis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 200 })
    this.redis.on('error', () => undefined)
  }

  start(): void {
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.loop
    this.redis.disconnect()
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await sleep(100)
      if (this.redis.status !== 'ready') continue
      for (const name of this.memories) {
        const fields = await Promise.race([
          this.redis.hgetall(`remem:{${this.prefix}${name}}:proj`).catch(() => ({})),
          sleep(1000).then(() => ({})),
        ])
        for (const [field, record] of Object.entries(fields as Record<string, string>)) {
          if (!record.startsWith('lease|') || this.seen.has(`${name} ${field} ${record}`)) continue
          this.seen.add(`${name} ${field} ${record}`)
          const external = field.includes('ext_')
          if (!external) this.clientKeyLeases++
          appendFileSync(
            this.logFile,
            `${new Date().toISOString()} ${external ? '' : 'CLIENT KEY '}${name} ${field}: ${record.slice(0, 240)}\n`,
          )
        }
      }
    }
  }
}
