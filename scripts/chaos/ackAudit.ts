/**
 * "Ack means persisted", checked while the faults run: every 3 s it notes what each writer
 * has journaled as acknowledged, then reads each memory's document straight from Redis (one
 * MULTI), then the journals again. Every operation acknowledged before the read must be in
 * Redis at that moment: the writer's keys there must equal its model after a prefix of its
 * operations that covers every acknowledged one (operations journaled up to the end of the
 * read may be in it too). Unlike the final check, this catches an acknowledged change that
 * was missing from Redis and came back later (a client resent it).
 */
import { appendFileSync } from 'node:fs'
import { type RedisLike, connectRedis } from './redisTarget.ts'
import { byMemory, describeMismatch, matchPrefix } from './check.ts'
import { type WriterEntry, readJournal } from './journal.ts'
import { ownKeys } from './ops.ts'
import { sleep } from './processes.ts'
import { readStoredDoc } from './redisState.ts'

export class AckAudit {
  private readonly redis: RedisLike
  private stopping = false
  private loop: Promise<void> = Promise.resolve()
  private readonly reported = new Set<string>()
  /** One line per writer and memory whose acknowledged operations were missing from Redis. */
  readonly problems: string[] = []
  /** Reads of Redis that were compared, and that could not be made (Redis down or paused). */
  samples = 0
  skipped = 0

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly memories: string[],
    /** The journal file of every writer started so far, by id. */
    private readonly journals: () => Map<string, string>,
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
      await sleep(3000)
      if (this.stopping) break
      await this.sample().catch((error: unknown) => {
        this.skipped++
        appendFileSync(this.logFile, `${new Date().toISOString()} skipped: ${String(error)}\n`)
      })
    }
  }

  private async sample(): Promise<void> {
    if (this.redis.status !== 'ready') throw new Error('redis not connected')
    const files = this.journals()
    const ackedBefore = new Map<string, Map<string, number>>()
    for (const [id, file] of files) {
      ackedBefore.set(id, new Map([...byMemory(readJournal<WriterEntry>(file))].map(([mem, { ackedSeq }]) => [mem, ackedSeq])))
    }
    const readAt = new Date().toISOString()
    const stored = await Promise.race([
      Promise.all(this.memories.map((name) => readStoredDoc(this.redis, this.prefix, name))),
      sleep(2000).then(() => {
        throw new Error('redis did not answer within 2 s')
      }),
    ])
    this.samples++
    for (const [id, file] of files) {
      for (const [mem, { ops }] of byMemory(readJournal<WriterEntry>(file))) {
        const ackedSeq = ackedBefore.get(id)?.get(mem) ?? 0
        const doc = stored[this.memories.indexOf(mem)]
        if (!doc || this.reported.has(`${id} ${mem}`)) continue
        const actual = ownKeys(doc.json, id)
        const match = matchPrefix(ops, ackedSeq, actual)
        if (match.matched) continue
        this.reported.add(`${id} ${mem}`)
        const problem = `acknowledged but not in Redis at ${readAt}: ${describeMismatch(id, mem, ackedSeq, ops.length, match, actual)}`
        this.problems.push(problem)
        appendFileSync(this.logFile, `${readAt} ${problem}\n`)
      }
    }
  }
}
