/**
 * Issue 12: a burst of writes made in one task travels as one UPDATE frame (tagged with the
 * last change's seq, as a handshake diff is), so the relay checks, appends and acknowledges
 * it once; every change of the burst is still acknowledged only once persisted.
 */
import { afterEach, expect, it } from 'vitest'
import { connect, eventually, readMemoryFromRedis, startRelay } from './helpers.ts'
import { metric } from './promText.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

async function started(): Promise<{ server: RedisServer; relay: Awaited<ReturnType<typeof startRelay>> }> {
  const server = await startRedis()
  cleanups.push(() => server.stop())
  const relay = await startRelay({ redis: server.url })
  cleanups.push(() => relay.close())
  return { server, relay }
}

it('sends the writes of one task as one frame, and acknowledges each once it is persisted', async () => {
  const { server, relay } = await started()
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const memory = client.memory('burst')
  await eventually(() => memory.status.connection === 'online')
  const accepted = (): Promise<number> => metric(relay, 'remem_updates_total')
  const before = await accepted()

  for (let i = 0; i < 50; i++) memory.set(`k${i}`, i)
  expect(memory.status.pending).toBe(50)
  await memory.whenSynced()
  expect(memory.status.pending).toBe(0)
  expect(await accepted()).toBe(before + 1)

  // Two tasks, two frames.
  memory.set('a', 1)
  await new Promise((resolve) => setTimeout(resolve, 0))
  memory.set('b', 2)
  await memory.whenSynced()
  expect(await accepted()).toBe(before + 3)

  const stored = (await readMemoryFromRedis(server.url, 'burst')).json
  for (let i = 0; i < 50; i++) expect(stored[`k${i}`]).toBe(i)
  expect(stored['b']).toBe(2)
})
