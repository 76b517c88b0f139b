/**
 * Shutdown against a Redis that does not answer (SIGSTOPped: connections stay open, commands
 * never return). A SIGTERMed relay used to wait forever in its last projection flush, its
 * unsubscribes and QUIT; it now gives the rooms `shutdownTimeoutMs`, drops what Redis does
 * not answer, and exits. Nothing acknowledged is lost: the edit it could not persist was never
 * acknowledged, and the client persists it through the next relay once Redis is back.
 */
import { afterEach, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClient } from '@remem/client'
import { eventually, readMemoryFromRedis, sleep } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'
import { freePort, spawnRelay } from './relayProcess.ts'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('a relay SIGTERMed while Redis is paused exits, and the unpersisted edit arrives later', async () => {
  const redis: RedisServer = await startRedis()
  cleanups.push(() => redis.stop())
  const port = await freePort()
  const first = await spawnRelay(['--port', String(port), '--redis', redis.url, '--log-level', 'warn'])
  cleanups.push(() => first.child.kill('SIGKILL'))
  const client = createClient({ url: first.url, WebSocket: WebSocket as never, onError: () => undefined })
  cleanups.push(() => client.close())
  const memory = client.memory('paused')
  memory.set('a', 1)
  await memory.whenSynced()

  const pid = redis.pid!
  process.kill(pid, 'SIGSTOP')
  cleanups.push(() => process.kill(pid, 'SIGCONT'))
  memory.set('b', 2)
  await sleep(100)
  expect(memory.status.pending).toBeGreaterThan(0)
  first.child.kill('SIGTERM')
  const exited = await Promise.race([first.exited, sleep(40_000).then(() => 'still running')])
  expect(exited).toBe(0)
  expect(memory.status.pending).toBeGreaterThan(0)

  process.kill(pid, 'SIGCONT')
  const second = await spawnRelay(['--port', String(port), '--redis', redis.url, '--log-level', 'warn'])
  cleanups.push(() => second.child.kill('SIGKILL'))
  await memory.whenSynced()
  await eventually(async () => expect((await readMemoryFromRedis(redis.url, 'paused')).json).toEqual({ a: 1, b: 2 }))
}, 90_000)
