/**
 * Shutdown while clients keep coming: a client that connects while the relay closes is
 * turned away with 1001, and close() finishes instead of waiting for it.
 */
import { expect, it } from 'vitest'
import { EmbeddedStore } from '@remem/server'
import { connect, sleep, startRelay, wrapStore } from './helpers.ts'
it('relay.close() finishes when a client connects while it closes', async () => {
  const inner = new EmbeddedStore()
  // Unsubscribing takes 200 ms, so room.close() (inside relay.close()) takes that long.
  const store = wrapStore(inner, {
    subscribe: async (name, listener) => {
      const off = await inner.subscribe(name, listener)
      return async () => {
        await sleep(200)
        await off()
      }
    },
  })
  const relay = await startRelay({ store })
  const first = connect(relay.url)
  await first.memory('m').whenSynced()
  await sleep(50)
  const closing = relay.close()
  await sleep(100) // inside room.close(): sessions already closed, server still accepting
  const late = connect(relay.url)
  let timer: ReturnType<typeof setTimeout> | undefined
  const result = await Promise.race([
    closing.then(() => 'closed'),
    new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), 3000))),
  ])
  clearTimeout(timer)
  await first.close()
  await late.close()
  await closing
  await inner.close()
  expect(result).toBe('closed')
  expect(relay.relay.rooms.size).toBe(0)
})
