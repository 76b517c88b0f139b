/**
 * Shutdown while clients keep coming: a client that connects while the relay closes is
 * turned away (HTTP 503 at the upgrade), and close() finishes instead of waiting for it.
 */
import { expect, it } from 'vitest'
import WebSocket from 'ws'
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

it('relay.close() completes each close handshake, and cuts a socket whose peer never answers after shutdownTimeoutMs', async () => {
  const store = new EmbeddedStore()
  const relay = await startRelay({ store, shutdownTimeoutMs: 300 })
  const polite = new WebSocket(relay.url)
  const silent = new WebSocket(relay.url)
  await Promise.all([polite, silent].map((socket) => new Promise((resolve) => socket.once('open', resolve))))
  await eventually(() => expect(relay.relay.sessions.size).toBe(2))
  const closes = [polite, silent].map(
    (socket) => new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code))),
  )
  // The silent peer stops reading: it never sees the relay's close frame, so never answers.
  ;(silent as unknown as { _socket: { pause(): void } })._socket.pause()
  let timer: ReturnType<typeof setTimeout> | undefined
  const result = await Promise.race([
    relay.close().then(() => 'closed'),
    // ws alone would wait 30 s for the silent peer's answer.
    new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), 10_000))),
  ])
  clearTimeout(timer)
  ;(silent as unknown as { _socket: { resume(): void } })._socket.resume()
  const [politeCode, silentCode] = await Promise.all(closes)
  await store.close()
  expect(result).toBe('closed')
  expect(relay.relay.sessions.size).toBe(0)
  expect(politeCode).toBe(1001)
  // Cut: once it reads again it finds the close frame (1001), or only the cut (1006).
  expect([1001, 1006]).toContain(silentCode)
})
