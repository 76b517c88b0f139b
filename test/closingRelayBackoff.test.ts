/**
 * Issue 9, finding 6a: clients back off (jittered, growing) when a closing relay turns them
 * away, instead of storming it.
 *
 * The storm had two causes: the client reset its backoff on every socket that opened, and a
 * closing relay accepted sockets before closing them with 1001. Now a closing relay refuses
 * the upgrade (HTTP 503), and the client starts its backoff over only once a socket proved
 * healthy. `Math.random` is pinned at 0.99 while reconnecting, so each delay is 99 % of its
 * ceiling: growing ceilings give 248, 495, 990, 1980 ms; a reset backoff gives 248 every time.
 */
import type { AddressInfo } from 'node:net'
import { afterEach, expect, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createClient } from '@remem/client'
import { EmbeddedStore } from '@remem/server'
import { eventually, startRelay, wrapStore } from './helpers.ts'
import { RawClient } from './rawClient.ts'

const GROWING = [248, 495, 990, 1980]
const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})


it('a closing relay refuses upgrades with 503, and its clients reconnect with growing delays', async () => {
  const inner = new EmbeddedStore()
  let release = (): void => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  // Unsubscribing waits for the test: relay.close() stays in room.close(), with its sessions
  // closed (1001) and its server still listening, as a relay whose store is slow to close.
  const store = wrapStore(inner, {
    subscribe: async (name, listener) => {
      const off = await inner.subscribe(name, listener)
      return async () => {
        await released
        await off()
      }
    },
  })
  const relay = await startRelay({ store })
  cleanups.push(() => inner.close())
  const client = createClient({ url: relay.url, WebSocket: WebSocket as never, onError: () => undefined })
  cleanups.push(() => client.close())
  const memory = client.memory('closing')
  await eventually(() => memory.status.connection === 'online' && relay.relay.rooms.has('closing'))
  let upgrades = 0
  relay.relay.server.on('upgrade', () => upgrades++)

  vi.spyOn(Math, 'random').mockReturnValue(0.99)
  const closing = relay.close()
  cleanups.push(() => {
    release()
    return closing
  })
  await eventually(() => client.connection.recentDelays.length >= GROWING.length, { timeoutMs: 10_000 })
  expect(client.connection.recentDelays.slice(0, GROWING.length)).toEqual(GROWING)
  // Every reconnect (the first three) reached the closing relay and was refused at the upgrade.
  expect(upgrades).toBe(GROWING.length - 1)
  const refused = await RawClient.open(relay.url).then(
    (raw) => {
      raw.close()
      return 'accepted'
    },
    (error: { status?: number }) => error.status,
  )
  expect(refused).toBe(503)
  release()
  await closing
})

it('a client reconnects with growing delays to a server that accepts sockets and closes them at once', async () => {
  // Also a relay of an older version shutting down, or a proxy in front of one.
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  await new Promise((resolve) => server.once('listening', resolve))
  let accepted = 0
  server.on('connection', (socket) => {
    accepted++
    socket.close(1001, 'relay shutting down')
  })
  vi.spyOn(Math, 'random').mockReturnValue(0.99)
  const client = createClient({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    WebSocket: WebSocket as never,
    onError: () => undefined,
  })
  cleanups.push(() => client.close())
  client.memory('turned-away')
  await eventually(() => client.connection.recentDelays.length >= GROWING.length, { timeoutMs: 10_000 })
  expect(client.connection.recentDelays.slice(0, GROWING.length)).toEqual(GROWING)
  expect(accepted).toBe(GROWING.length)
})
