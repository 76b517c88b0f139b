/**
 * Issue 9, chaos seed 36: an external write Redis acknowledged was overwritten by the value
 * before it.
 *
 * A relay ingested it (claimed, applied to its document, queued for the log), then another
 * relay started a new epoch before the append: the queued ingest was dropped with the old
 * epoch, rightly unconfirmed, so its claim lapsed and the relay ingested the key again. But
 * the relay kept the dropped value as its merge base, so the second ingest merged "no change"
 * (base = next) into a document that never got it, confirmed it, and projected the older
 * value over the external write. A dropped ingest now forgets its base.
 */
import * as Y from 'yjs'
import { expect, it } from 'vitest'
import { docToJSON, rebuildState } from '@remem/client/protocol'
import { RedisStore } from '@remem/server'
import { eventually, readMemoryFromRedis, startRelay, wrapStore } from './helpers.ts'
import { useRedisFile } from './redisFile.ts'
import { projectedValue, wrappedText } from './projectionText.ts'

const file = useRedisFile()
const { cleanups } = file

const external = wrappedText
const projected = (key: string): Promise<unknown> => projectedValue(file.redis, key)

/** Starts a new epoch of `name` from what the store holds, as another relay would. */
async function switchEpochElsewhere(url: string, name: string): Promise<void> {
  const other = await RedisStore.connect({ redis: url, keyspace: 'off' })
  try {
    const stored = await other.load(name)
    const doc = new Y.Doc({ gc: true })
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const entry of stored.entries) Y.applyUpdate(doc, entry.update)
    const switched = await other.switchEpoch(name, {
      from: stored.epoch,
      uptoId: stored.lastId,
      snapshot: rebuildState(doc, 424_242),
      previousVector: Y.encodeStateVector(doc),
    })
    expect(switched).toBe(true)
  } finally {
    await other.close()
  }
}

it('an ingest dropped with an old epoch is ingested again in full, never overwritten by the value before it', async () => {
  const inner = await RedisStore.connect({ redis: file.server.url })
  let held: (() => void) | null = null
  let holding: Promise<void> | null = null
  const store = wrapStore(inner, {
    append: async (name, updates, relayId, epoch) => {
      if (holding) await holding
      return inner.append(name, updates, relayId, epoch)
    },
  })
  const relay = await startRelay({ store, ingestLeaseMs: 300, idleUnloadMs: 60_000 })
  cleanups.push(() => relay.close())
  const name = 'seed36'
  const key = `memory:${name}:k`
  const room = await relay.relay.openRoom(name)
  const inRoom = (): unknown => docToJSON(room.doc)['k']

  // 1. An external write, ingested, persisted and confirmed.
  await file.redis.set(key, external(1))
  await eventually(async () => {
    expect(inRoom()).toBe(1)
    expect((await readMemoryFromRedis(file.server.url, name)).json['k']).toBe(1)
    const record = await file.redis.hget(`remem:{memory:${name}}:proj`, 'k')
    expect(record).toBeTruthy()
    expect(record!.startsWith('lease|')).toBe(false)
  })

  // 2. The next external write is claimed and applied, but its append is held back ...
  holding = new Promise((resolve) => (held = resolve))
  await file.redis.set(key, external(2))
  await eventually(() => expect(inRoom()).toBe(2))

  // 3. ... while another relay starts a new epoch without it: the ingest is dropped.
  await switchEpochElsewhere(file.server.url, name)
  held!()
  holding = null

  // The lease lapses and the write is ingested again: memory, log and key all say 2.
  await eventually(
    async () => {
      expect(inRoom()).toBe(2)
      expect((await readMemoryFromRedis(file.server.url, name)).json['k']).toBe(2)
      expect(await projected(key)).toBe(2)
      const record = await file.redis.hget(`remem:{memory:${name}}:proj`, 'k')
      expect(record!.startsWith('lease|')).toBe(false)
    },
    { timeoutMs: 10_000 },
  )
})
