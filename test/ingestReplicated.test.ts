/**
 * With ackReplicas, an external write is applied to a memory only once the relay's claim on
 * it is on the replicas (chaos seed 21 on a cluster: a claim and confirm that a failover
 * undid left the document holding a value whose record Redis forgot, and a later external
 * DEL of the key then looked like nothing to ingest; the value was projected back).
 */
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { RedisStore } from '@remem/server'
import { connect, eventually, sleep, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const ACK_TIMEOUT_MS = 300
const wrapped = (value: string): string => JSON.stringify({ value, last_modified: 1 })

async function primaryWithReplica(): Promise<{ primary: RedisServer; replica: RedisServer; redis: Redis }> {
  // Replicas sync at once, not after the default 5 s of diskless-sync delay.
  const primary = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] })
  cleanups.push(() => primary.stop())
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  cleanups.push(() => replica.stop())
  // A stopped replica must run again before it can be stopped for good.
  cleanups.push(async () => replica.pid !== undefined && process.kill(replica.pid, 'SIGCONT'))
  const redis = new Redis(primary.url)
  cleanups.push(async () => redis.disconnect())
  const onReplica = new Redis(replica.url)
  await eventually(async () => /master_link_status:up/.test(await onReplica.info('replication')), { timeoutMs: 10_000 })
  onReplica.disconnect()
  return { primary, replica, redis }
}

it('an external write is applied only once the claim on it reached the replicas', async () => {
  const { primary, replica, redis } = await primaryWithReplica()
  const store = await RedisStore.connect({ redis: primary.url, ackReplicas: 1, ackTimeoutMs: ACK_TIMEOUT_MS })
  cleanups.push(() => store.close())
  const relay = await startRelay({ store })
  cleanups.push(() => relay.close())
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const memory = client.memory('ir')
  memory.set('mine', 1)
  await memory.whenSynced()

  process.kill(replica.pid!, 'SIGSTOP')
  await redis.set('memory:ir:k', wrapped('x-1'))
  // The relay claims it on the primary, but WAIT finds no replica holding the claim...
  await eventually(async () => (await redis.hget('remem:{memory:ir}:proj', 'k'))?.startsWith('lease|') === true)
  // ...so, a few WAIT timeouts later, it still has not applied it.
  await sleep(3 * ACK_TIMEOUT_MS)
  expect(memory.get('k')).toBeUndefined()

  process.kill(replica.pid!, 'SIGCONT')
  await eventually(() => memory.get('k') === 'x-1', { timeoutMs: 20_000 })
  await eventually(async () => (await redis.hget('remem:{memory:ir}:proj', 'k'))?.startsWith('lease|') === false)

  // A DEL now finds the record and wins.
  await redis.del('memory:ir:k')
  await eventually(() => memory.get('k') === undefined)
  await sleep(200)
  expect(await redis.exists('memory:ir:k')).toBe(0)
})
