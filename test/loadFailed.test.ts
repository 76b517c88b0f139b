/**
 * A memory the relay could not load (issue 9, finding 3): the relay answers `ERROR
 * loadFailed` once, and the client asks again (SYNC step 1) with jittered, growing backoff
 * until the memory loads, on the same socket.
 */
import { afterEach, expect, it } from 'vitest'
import { RefusedError } from '@remem/client'
import { connect, eventually, readMemoryFromRedis, startRelay } from './helpers.ts'
import { startRedis } from './redisServer.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const loadFailures = (errors: Error[]): number =>
  errors.filter((e) => e instanceof RefusedError && e.reason === 'loadFailed').length

it('after ERROR loadFailed the client retries the handshake until the memory loads, without reconnecting', async () => {
  const redis = await startRedis()
  cleanups.push(() => redis.stop())
  const relay = await startRelay({ redis: redis.url })
  cleanups.push(() => relay.close())
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const warm = client.memory('warm')
  await eventually(() => expect(warm.status.connection).toBe('online'))
  const [session] = relay.relay.sessions

  // Redis goes away while the relay loads a memory: the load fails.
  redis.kill()
  const mem = client.memory('cold')
  mem.set('written', 'while it could not load')
  // It asks again while Redis stays down (each answer is reported through onError).
  await eventually(() => expect(loadFailures(client.errors)).toBeGreaterThanOrEqual(2))
  expect(mem.status).toMatchObject({ connection: 'connecting', pending: 1 })

  // Redis comes back: a later handshake loads the memory and the change is persisted.
  await redis.restart()
  await eventually(() => expect(mem.status).toMatchObject({ connection: 'online', pending: 0 }), {
    timeoutMs: 30_000,
  })
  await mem.whenSynced()
  expect((await readMemoryFromRedis(redis.url, 'cold')).json).toEqual({
    written: 'while it could not load',
  })
  // All on the first socket: the relay never saw another connection.
  expect(relay.relay.sessions.size).toBe(1)
  expect([...relay.relay.sessions][0]).toBe(session)
  expect(warm.status.connection).toBe('online')
})
