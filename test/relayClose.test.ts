/**
 * Shutdown while clients keep coming: a client that connects while the relay closes is
 * turned away (HTTP 503 at the upgrade), and close() finishes instead of waiting for it.
 */
import { expect, it } from 'vitest'
import { EmbeddedStore } from '@remem/server'
import { connect, eventually, startRelay, wrapStore } from './helpers.ts'
it('relay.close() finishes when a client connects while it closes', async () => {
  const inner = new EmbeddedStore()
  let inRoomClose = false
  let release = (): void => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  // Unsubscribing waits for the test, so relay.close() stays inside room.close(): sessions
  // already closed, server still accepting.
  const store = wrapStore(inner, {
    subscribe: async (name, listener) => {
      const off = await inner.subscribe(name, listener)
      return async () => {
        inRoomClose = true
        await released
        await off()
      }
    },
  })
  const relay = await startRelay({ store })
  const url = relay.url
  const first = connect(url)
  const memory = first.memory('m')
  await eventually(() => memory.status.connection === 'online' && relay.relay.rooms.has('m'))
  let upgrades = 0
  relay.relay.server.on('upgrade', () => upgrades++)
  const closing = relay.close()
  await eventually(() => inRoomClose)
  const late = connect(url)
  await eventually(() => upgrades > 0)
  release()
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
