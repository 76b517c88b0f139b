/**
 * A refused update is never acknowledged: acks are cumulative, so the relay stops acking a
 * session's memory just below the refused seq until the next handshake. The client keeps
 * the change pending and hears why. (Later changes that build on the refused one are
 * refused too, as missing dependencies: the client's copy has diverged. Known limit.)
 */
import { afterEach, expect, it } from 'vitest'
import { RefusedError, type SyncedDict } from '@remem/client'
import { connect, eventually, sleep, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('a refused update stays pending, and later acks do not cover it', async () => {
  const relay = await startRelay({ maxUpdateBytes: 2_000 })
  cleanups.push(() => relay.close())
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const mem = client.memory('refused')
  mem.set('profile', { a: 1 })
  await mem.whenSynced()
  mem.set('big', 'x'.repeat(10_000))
  // Yjs clocks are contiguous per client, so this later change depends on the refused one.
  ;(mem.get('profile') as SyncedDict).set('b', 2)
  await eventually(() => {
    const refusal = client.errors.find((e) => e instanceof RefusedError)
    expect((refusal as RefusedError | undefined)?.reason).toBe('updateTooLarge')
  })
  const other = connect(relay.url)
  cleanups.push(() => other.close())
  const seen = other.memory('refused')
  await eventually(() => expect(seen.status.connection).toBe('online'))
  await sleep(100)
  expect(seen.toJSON()).toEqual({ profile: { a: 1 } })
  expect(mem.status.pending).toBe(2)
  let synced = false
  void mem.whenSynced().then(() => (synced = true))
  await sleep(100)
  expect(synced).toBe(false)
  expect(relay.relay.rooms.get('refused')?.pendingWrites).toBe(0)
})

it('an honest client cannot make a change the relay would refuse for its size', async () => {
  const relay = await startRelay()
  cleanups.push(() => relay.close())
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const mem = client.memory('huge')
  expect(() => mem.set('blob', 'x'.repeat(2_000_000))).toThrow(/at most .* Split it/)
  expect(() => mem.set('rows', Array.from({ length: 50_000 }, (_, i) => ({ i, text: 'row' })))).toThrow(
    /rows is \d+ characters of JSON/,
  )
  expect(mem.toJSON()).toEqual({})
  expect(mem.status.pending).toBe(0)
})
