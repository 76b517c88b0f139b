/**
 * The relay does not read back its own projection writes (issue 12, bench/README.md item 3):
 * the keyspace events of a write it made are recognised without a command to Redis, while
 * another client's write of the same key, landing right before or right after the relay's,
 * is still passed on to be ingested. Counts of events and commands, not times.
 */
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '@remem/server'
import type { KeyEvent } from '../packages/server/src/store/Projection.ts'
import { projectScript } from '../packages/server/src/store/projectionScripts.ts'
import { connect, eventually, sleep, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let server: RedisServer
let redis: Redis
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  server = await startRedis()
  redis = new Redis(server.url)
})
afterAll(async () => {
  redis.disconnect()
  await server.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex')
const wrapped = (value: unknown): string => JSON.stringify({ value, last_modified: 1 })

/** A store watching keyspace events, with every event it passes on. */
async function watchedStore() {
  const store = await RedisStore.connect({ redis: server.url })
  const events: KeyEvent[] = []
  const stop = await store.projection.watch((event) => events.push(event))
  cleanups.push(async () => {
    await stop()
    await store.close()
  })
  /**
   * Waits until every keyspace event published so far reached the store's subscriber and
   * any window holding it closed; returns (and forgets) the events passed on meanwhile.
   */
  const settled = async (): Promise<KeyEvent[]> => {
    // A marker key's event comes behind everything published before it.
    await redis.set('memory:marker:k', wrapped(Math.random()))
    await eventually(() => expect(events.some((event) => event.name === 'marker')).toBe(true))
    return events.splice(0).filter((event) => event.name !== 'marker')
  }
  return { store, events, settled }
}

/** Commands Redis runs from now on (MONITOR), as lowercase words, except the test's own and scripts' inner ones. */
async function monitor(): Promise<{ commands: string[][]; stop: () => void }> {
  const connection = new Redis(server.url)
  const monitored = await connection.monitor()
  const commands: string[][] = []
  const mine = `:${redis.stream.localPort}`
  monitored.on('monitor', (_time: string, args: string[], source: string) => {
    // Commands a script runs are listed with source 'lua': the script is counted once.
    if (source !== 'lua' && !source.endsWith(mine)) commands.push(args.map((arg) => String(arg).toLowerCase()))
  })
  const stop = () => {
    monitored.disconnect()
    connection.disconnect()
  }
  cleanups.push(async () => stop())
  return { commands, stop }
}

describe('own projection writes', () => {
  it("passes on none of the events of the store's own writes", async () => {
    const { store, settled } = await watchedStore()
    await settled()
    const expiresAt = Date.now() + 60_000
    for (let i = 0; i < 20; i++) {
      const result = await store.projection.write('own', [
        { key: 'a', value: { n: i } },
        { key: 'b', value: i, expiresAt },
      ])
      expect(result).toEqual({ written: 2, conflicts: [], waiting: [] })
    }
    await store.projection.write('own', [{ key: 'a', value: undefined }])
    expect(await settled()).toEqual([])
    // The last writes' windows close once their barrier PING (sent at the end of a turn) returns.
    await eventually(() => expect(store.projection.ownWriteStats!.skipped).toBe(20 + 40 + 1))
  })

  it('proves the writes of many memories settled in one turn with one PING', async () => {
    const { store, settled } = await watchedStore()
    await settled()
    const { commands, stop } = await monitor()
    const names = Array.from({ length: 10 }, (_, i) => `turn${i}`)
    const results = await Promise.all(names.map((name) => store.projection.write(name, [{ key: 'k', value: name }])))
    expect(results.map((result) => result.written)).toEqual(names.map(() => 1))
    expect(await settled()).toEqual([])
    await eventually(() => expect(store.projection.ownWriteStats!.skipped).toBe(10))
    // MONITOR lists commands in the order Redis ran them: past this marker, every PING is in.
    const marker = new Redis(server.url)
    cleanups.push(async () => marker.disconnect())
    await marker.echo('barrier-marker')
    await eventually(() => expect(commands.some(([name, arg]) => name === 'echo' && arg === 'barrier-marker')).toBe(true))
    stop()
    expect(commands.filter(([name]) => name === 'ping')).toHaveLength(1)
  })

  it('passes on another client’s write landing right after or right before its own', async () => {
    const { store, settled } = await watchedStore()
    const other = new Redis(server.url)
    cleanups.push(async () => other.disconnect())
    const rounds = 40
    for (let i = 0; i < rounds; i++) {
      const key = `r${i}`
      await store.projection.write('race', [{ key, value: 'before' }])
      await settled()
      // Both sent in the same tick on two connections: Redis runs them in either order.
      const external = wrapped(`external ${i}`)
      const [result] =
        i % 2 === 0
          ? await Promise.all([store.projection.write('race', [{ key, value: `own ${i}` }]), other.set(`memory:race:${key}`, external)])
          : await Promise.all([other.set(`memory:race:${key}`, external), store.projection.write('race', [{ key, value: `own ${i}` }])]).then(
              ([, written]) => [written] as const,
            )
      // Before the relay's write: refused as a conflict. After it: overwrites it. Either way
      // the key ends with the external value, and the relay must learn of it.
      expect(await redis.get(`memory:race:${key}`)).toBe(external)
      const passedOn = await settled()
      const told = result.conflicts.includes(key) || passedOn.some((event) => event.name === 'race' && event.key === key)
      expect(told, `round ${i}: the external write of ${key} was neither a conflict nor passed on`).toBe(true)
    }
  })

  it('reads nothing back from Redis when a client’s changes are projected', async () => {
    const relay = await startRelay({ redis: server.url, projectionCoalesceMs: 5 })
    cleanups.push(() => relay.close())
    const client = connect(relay.url)
    cleanups.push(async () => client.close())
    const mem = client.memory('quiet')
    mem.set('warm', 1)
    await eventually(async () => expect(await redis.get('memory:quiet:warm')).not.toBeNull())
    const { commands, stop } = await monitor()
    for (let i = 0; i < 10; i++) {
      mem.set('k', i)
      await eventually(async () => expect(JSON.parse((await redis.get('memory:quiet:k')) ?? 'null')?.value).toBe(i))
      // Let the relay see the write's keyspace event before the next one.
      await sleep(20)
    }
    stop()
    const onKey = commands.filter((args) => args.includes('memory:quiet:k'))
    const reads = onKey.filter(([name]) => name === 'type' || name === 'get' || name === 'pexpiretime')
    expect(reads).toEqual([])
    // Only the project script touched the key (no claim script): once per write.
    const project = sha1(projectScript)
    expect(onKey.length).toBeGreaterThanOrEqual(10)
    expect(onKey.filter(([name, sha]) => name !== 'evalsha' || sha !== project)).toEqual([])
  })

  it('ingests another client’s write landing right after the relay’s last write of the key', async () => {
    const relay = await startRelay({ redis: server.url, projectionCoalesceMs: 5 })
    cleanups.push(() => relay.close())
    const client = connect(relay.url)
    cleanups.push(async () => client.close())
    const mem = client.memory('late')
    for (let i = 0; i < 10; i++) {
      mem.set('k', i)
      // As soon as the relay's write is there, another client writes the key.
      await eventually(async () => expect(JSON.parse((await redis.get('memory:late:k')) ?? 'null')?.value).toBe(i), {
        intervalMs: 1,
      })
      await redis.set('memory:late:k', wrapped(`external ${i}`))
      await eventually(() => expect(mem.get('k')).toBe(`external ${i}`))
    }
  })
})
