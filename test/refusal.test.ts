/**
 * A refused update is never acknowledged: acks are cumulative, so the relay sends no ACK on
 * that handshake above the highest seq it accepted before the refusal (docs/PROTOCOL.md,
 * "Acknowledgements"; test/ackRules.test.ts for a refused handshake diff). The client keeps
 * the change pending and hears why. (Later changes that build on the refused one are
 * refused too, as missing dependencies: the client's copy has diverged. Known limit.)
 */
import { afterEach, expect, it } from 'vitest'
import { RefusedError } from '@remem/client'
import { connect, eventually, sleep, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('a refused update stays pending, and later acks do not cover it', async () => {
  const relay = await startRelay({ maxUpdateBytes: 2_000 })
  cleanups.push(() => relay.close())
  const other = connect(relay.url)
  cleanups.push(() => other.close())
  const theirs = other.memory('refused')
  theirs.set('theirs', 1)
  await theirs.whenSynced()
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const mem = client.memory('refused')
  await eventually(() => expect(mem.get('theirs')).toBe(1))

  mem.set('big', 'x'.repeat(10_000))
  // Deleting another client's entry adds no structs of this client, so it does not depend
  // on the refused change: the relay accepts and persists it, but must not ack it, because
  // acks are cumulative and would also cover the refused change.
  mem.delete('theirs')
  await eventually(() => {
    const refusal = client.errors.find((e) => e instanceof RefusedError)
    expect((refusal as RefusedError | undefined)?.reason).toBe('updateTooLarge')
  })
  await eventually(() => expect(theirs.toJSON()).toEqual({}))
  await eventually(() => expect(relay.relay.rooms.get('refused')?.pendingWrites).toBe(0))
  await sleep(100)
  expect(mem.status.pending).toBe(2)
  let synced = false
  void mem.whenSynced().then(() => (synced = true))
  await sleep(100)
  expect(synced).toBe(false)
  expect(theirs.has('big')).toBe(false)
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
