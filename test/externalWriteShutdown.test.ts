/**
 * Issue 9, finding 4: an external write Redis acknowledged is never lost, whatever the
 * timing of a relay's shutdown or crash.
 *
 * It was lost when a relay claimed it (recording it in the `proj` hash) and then did not
 * persist the merge to the log: the next relay loaded the older value from the log, found
 * the key matching its record ("a relay's own doing"), and projected the old value over it.
 * Now the record is written only once the ingest is in the log; a claim not confirmed
 * lapses after `ingestLeaseMs` and the write is ingested again.
 */
import { expect, it } from 'vitest'
import { RedisStore } from '@remem/server'
import { connect, eventually, readMemoryFromRedis, startRelay, wrapStore } from './helpers.ts'
import { useRedisFile } from './redisFile.ts'
import { projectedValue, wrappedText } from './projectionText.ts'

const file = useRedisFile()
const { cleanups } = file

const external = wrappedText
const projected = (key: string): Promise<unknown> => projectedValue(file.redis, key)

/** A client of `url` that wrote `x = 1` to memory `name`, acknowledged. */
async function writeX(url: string, name: string): Promise<void> {
  const client = connect(url)
  cleanups.push(() => client.close())
  const memory = client.memory(name)
  memory.set('x', 1)
  await memory.whenSynced()
}

/** Opens `name` on a fresh relay and waits until memory, log and plain key all hold x = 968. */
async function expectX968(name: string): Promise<void> {
  const relay = await startRelay({ redis: file.server.url, ingestLeaseMs: 500 })
  cleanups.push(() => relay.close())
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const memory = client.memory(name)
  await memory.whenSynced()
  await eventually(
    async () => {
      expect(memory.get('x')).toBe(968)
      expect((await readMemoryFromRedis(file.server.url, name)).json.x).toBe(968)
      expect(await projected(`memory:${name}:x`)).toBe(968)
    },
    { timeoutMs: 8_000 },
  )
}

it('a write found by the last projection flush of a relay shutting down is not lost', async () => {
  // No keyspace events and a long coalesce: x = 1 is still waiting to be projected when the
  // relay closes, and its last flush finds the external write in the way.
  const first = await startRelay({
    redis: file.server.url,
    keyspace: 'off',
    reconcileIntervalMs: 3_600_000,
    projectionCoalesceMs: 60_000,
  })
  cleanups.push(() => first.close())
  await writeX(first.url, 'shutdown1')
  expect(await file.redis.set('memory:shutdown1:x', external(968))).toBe('OK')
  await first.close()
  await expectX968('shutdown1')
})

it('a write claimed by a relay that stopped before persisting it is ingested by the next relay', async () => {
  const inner = await RedisStore.connect({ redis: file.server.url })
  let stalled = false
  let stalledAppends = 0
  // Once stalled, appends never complete: the relay has claimed and applied the external
  // write but will never persist it, as if SIGKILLed between the claim and the append.
  const store = wrapStore(inner, {
    projection: inner.projection,
    append: (name, updates, relayId) => {
      if (!stalled) return inner.append(name, updates, relayId)
      stalledAppends++
      return new Promise(() => {})
    },
  })
  const first = await startRelay({ store, shutdownTimeoutMs: 100, ingestLeaseMs: 500 })
  cleanups.push(async () => {
    await first.close()
    await inner.close()
  })
  await writeX(first.url, 'crash1')
  await eventually(async () => expect(await projected('memory:crash1:x')).toBe(1))
  stalled = true
  expect(await file.redis.set('memory:crash1:x', external(968))).toBe('OK')
  // Claimed and applied on the first relay, stuck before the log.
  await eventually(() => first.relay.stats.ingests === 1 && stalledAppends > 0)
  expect((await readMemoryFromRedis(file.server.url, 'crash1')).json.x).toBe(1)
  await expectX968('crash1')
})
