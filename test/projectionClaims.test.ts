/**
 * Claim, persist, confirm (issue 9, finding 4), the same on both projections: a claimed
 * external write is not recorded until its claimant confirms it; meanwhile projecting the key
 * waits, another relay is told to wait for the lease, a lapsed lease is taken over, and a
 * superseded claimant's confirm changes nothing.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddedStore, RedisStore } from '@remem/server'
import type { KeyRead, Projection } from '../packages/server/src/store/Projection.ts'
import { recordFor, valueHash } from '../packages/server/src/store/projectionFormat.ts'
import { sleep } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

interface Subject {
  projection: Projection
  /** Writes `raw` at projection key `key` of memory `m`, as another Redis client would. */
  set(key: string, raw: string): Promise<void>
  del(key: string): Promise<void>
}

let server: RedisServer
let redis: Redis
let redisStore: RedisStore
const embedded = new EmbeddedStore()
beforeAll(async () => {
  server = await startRedis()
  redis = new Redis(server.url)
  redisStore = await RedisStore.connect({ redis: server.url, keyspace: 'off' })
})
afterAll(async () => {
  await redisStore.close()
  redis.disconnect()
  await embedded.close()
  await server.stop()
})

const subjects: Record<string, () => Subject> = {
  embedded: () => ({
    projection: embedded.projection,
    set: async (key, raw) => embedded.projection.set(`memory:m:${key}`, raw),
    del: async (key) => void embedded.projection.del(`memory:m:${key}`),
  }),
  redis: () => ({
    projection: redisStore.projection,
    set: async (key, raw) => void (await redis.set(`memory:m:${key}`, raw)),
    del: async (key) => void (await redis.del(`memory:m:${key}`)),
  }),
}

const LONG = 60_000
const wrapped = (value: unknown): string => JSON.stringify({ value, last_modified: 1 })
const recorded = async (p: Projection, key: string) => (await p.readAll('m')).recorded.get(key)
const recordOf = (read: KeyRead): string | undefined =>
  read.kind === 'value' ? recordFor(read.value, read.expiresAt, read.raw) : undefined

describe.each(Object.keys(subjects))('%s projection', (kind) => {
  it('records a claimed write only on its claimant’s confirm; others wait meanwhile', async () => {
    const { projection: p, set } = subjects[kind]!()
    await set('a', wrapped('external'))
    const read = await p.read('m', 'a')
    expect(await p.claim('m', 'a', read, 'relay-1', LONG)).toEqual({ kind: 'claimed', replaced: [] })
    const busy = await p.claim('m', 'a', read, 'relay-2', LONG)
    expect(busy.kind).toBe('busy')
    expect(await p.write('m', [{ key: 'a', value: 'stale' }])).toEqual({ written: 0, conflicts: [], waiting: ['a'] })
    expect(await recorded(p, 'a')).not.toBe(recordOf(read))
    await p.confirm('m', 'a', read, 'relay-2') // not its claim: nothing happens
    expect(await recorded(p, 'a')).not.toBe(recordOf(read))
    await p.confirm('m', 'a', read, 'relay-1')
    expect(await recorded(p, 'a')).toBe(recordOf(read))
    expect(await p.claim('m', 'a', read, 'relay-2', LONG)).toEqual({ kind: 'skip' })
    expect(await p.write('m', [{ key: 'a', value: 'next' }])).toEqual({ written: 1, conflicts: [], waiting: [] })
  })

  it('a lapsed claim is taken over, and the first claimant’s late confirm changes nothing', async () => {
    const { projection: p, set } = subjects[kind]!()
    await set('b', wrapped('external'))
    const read = await p.read('m', 'b')
    expect(await p.claim('m', 'b', read, 'relay-1', 1)).toEqual({ kind: 'claimed', replaced: [] })
    await sleep(20)
    expect((await p.write('m', [{ key: 'b', value: 'stale' }])).conflicts).toEqual(['b'])
    // The lapsed claim read 'external': that is what the key last held.
    expect(await p.claim('m', 'b', read, 'relay-2', LONG)).toEqual({ kind: 'claimed', replaced: [valueHash('external')] })
    await p.confirm('m', 'b', read, 'relay-1')
    expect(await recorded(p, 'b')).not.toBe(recordOf(read))
    await p.confirm('m', 'b', read, 'relay-2')
    expect(await recorded(p, 'b')).toBe(recordOf(read))
  })

  it('a claimed delete keeps the record until confirmed', async () => {
    const { projection: p, del } = subjects[kind]!()
    expect((await p.write('m', [{ key: 'c', value: 1 }])).written).toBe(1)
    await del('c')
    const read = await p.read('m', 'c')
    expect(read).toEqual({ kind: 'absent' })
    // The record says what the key held before the delete: what a relay wrote.
    expect(await p.claim('m', 'c', read, 'relay-1', LONG)).toEqual({ kind: 'claimed', replaced: [valueHash(1)] })
    expect((await p.write('m', [{ key: 'c', value: 1 }])).waiting).toEqual(['c'])
    await p.confirm('m', 'c', read, 'relay-1')
    expect(await recorded(p, 'c')).toBeUndefined()
    expect((await p.write('m', [{ key: 'c', value: 2 }])).written).toBe(1)
  })
  it('a lapsed claim of a delete passes on what the key held before it', async () => {
    const { projection: p, set, del } = subjects[kind]!()
    await set('d', wrapped('x-49'))
    const first = await p.read('m', 'd')
    expect(await p.claim('m', 'd', first, 'relay-1', LONG)).toEqual({ kind: 'claimed', replaced: [] })
    await p.confirm('m', 'd', first, 'relay-1')
    await set('d', wrapped('x-50'))
    const second = await p.read('m', 'd')
    expect(await p.claim('m', 'd', second, 'relay-1', LONG)).toEqual({ kind: 'claimed', replaced: [valueHash('x-49')] })
    await p.confirm('m', 'd', second, 'relay-1')
    await del('d')
    const gone = await p.read('m', 'd')
    // Relay 2 claims the delete and stops before confirming it: its lease lapses.
    expect(await p.claim('m', 'd', gone, 'relay-2', 1)).toEqual({ kind: 'claimed', replaced: [valueHash('x-50')] })
    await sleep(20)
    // Whoever takes it over still learns that the key held x-50 before the delete.
    expect(await p.claim('m', 'd', gone, 'relay-3', 1)).toEqual({ kind: 'claimed', replaced: [valueHash('x-50')] })
    await sleep(20)
    // A lapsed claim of a value passes on both what it read and what it replaced.
    await set('d', wrapped('x-51'))
    const third = await p.read('m', 'd')
    expect(await p.claim('m', 'd', third, 'relay-1', 1)).toEqual({ kind: 'claimed', replaced: [valueHash('x-50')] })
    await sleep(20)
    expect(await p.claim('m', 'd', third, 'relay-2', LONG)).toEqual({
      kind: 'claimed',
      replaced: [valueHash('x-51'), valueHash('x-50')],
    })
  })
})
