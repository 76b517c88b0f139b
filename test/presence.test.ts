/**
 * Presence (y-protocols awareness) through a real relay: states appear, update and
 * disappear; a session that vanishes is removed by the relay; late joiners and late
 * presence get the current states; bad AWARENESS frames are refused to their sender only.
 */
import { ErrorCode, MessageType, decodeMessage, encodeMessage } from '@remem/client/protocol'
import type { Memory, PresenceSnapshot } from '@remem/client'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { connect, eventually, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relayAndClients(count: number) {
  const relay = await startRelay()
  cleanups.push(() => relay.close())
  const clients = Array.from({ length: count }, () => connect(relay.url))
  for (const client of clients) cleanups.push(() => client.close())
  return { relay, clients }
}

const others = (memory: Memory): PresenceSnapshot['others'] => memory.presence.getSnapshot().others

/** A bare protocol session: SYNC step 1 for `name`, and every frame it receives. */
async function rawSession(url: string, name: string) {
  const socket = new WebSocket(url)
  socket.binaryType = 'arraybuffer'
  const frames: ReturnType<typeof decodeMessage>[] = []
  socket.on('message', (data: ArrayBuffer) => frames.push(decodeMessage(new Uint8Array(data))))
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, new Y.Doc())
  socket.send(
    encodeMessage({ type: MessageType.sync, name, payload: encoding.toUint8Array(encoder) }),
  )
  const send = (payload: Uint8Array) =>
    socket.send(encodeMessage({ type: MessageType.awareness, name, payload }))
  cleanups.push(async () => socket.terminate())
  return { socket, frames, send }
}

describe('presence', () => {
  it('appears, updates and disappears within 3 s when the other client closes', async () => {
    const { clients } = await relayAndClients(2)
    const [a, b] = clients as [ReturnType<typeof connect>, ReturnType<typeof connect>]
    const ma = a.memory('room')
    const mb = b.memory('room')
    ma.presence.setState({ name: 'Ada' })
    mb.presence.setState({ name: 'Bob' })

    await eventually(() =>
      expect(others(mb)).toEqual([{ clientId: ma.presence.clientId, state: { name: 'Ada' } }]),
    )
    await eventually(() =>
      expect(others(ma)).toEqual([{ clientId: mb.presence.clientId, state: { name: 'Bob' } }]),
    )
    expect(ma.presence.self).toEqual({ name: 'Ada' })

    let notified = 0
    mb.presence.subscribe(() => notified++)
    ma.presence.setState({ cursor: 3 })
    await eventually(() => expect(others(mb)[0]?.state).toEqual({ name: 'Ada', cursor: 3 }))
    expect(notified).toBeGreaterThan(0)
    // Unchanged snapshots keep their identity.
    expect(mb.presence.getSnapshot()).toBe(mb.presence.getSnapshot())

    const closedAt = Date.now()
    await a.close()
    await eventually(() => expect(others(mb)).toEqual([]), { timeoutMs: 3000 })
    expect(Date.now() - closedAt).toBeLessThan(3000)
  })

  it('drops a session that vanishes without saying goodbye', async () => {
    const { relay, clients } = await relayAndClients(1)
    const mb = clients[0]!.memory('vanish')
    mb.presence.setState({ name: 'Bob' })
    await eventually(() => expect(mb.status.connection).toBe('online'))

    const raw = await rawSession(relay.url, 'vanish')
    const awareness = new awarenessProtocol.Awareness(new Y.Doc())
    cleanups.push(async () => awareness.destroy())
    awareness.setLocalState({ name: 'ghost' })
    raw.send(awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID]))
    await eventually(() =>
      expect(others(mb).map((peer) => peer.state)).toEqual([{ name: 'ghost' }]),
    )
    // The raw session was greeted with the states already there.
    await eventually(() =>
      expect(raw.frames.some((frame) => frame.type === MessageType.awareness)).toBe(true),
    )

    raw.socket.terminate() // no removal, no close handshake: a crashed tab
    await eventually(() => expect(others(mb)).toEqual([]), { timeoutMs: 3000 })
  })

  it('shows a late joiner, and presence opened late, everyone already there', async () => {
    const { relay, clients } = await relayAndClients(2)
    const [a, b] = clients as [ReturnType<typeof connect>, ReturnType<typeof connect>]
    a.memory('late').presence.setState({ name: 'Ada' })
    b.memory('late').presence.setState({ name: 'Bob' })
    await eventually(() => expect(others(b.memory('late'))).toHaveLength(1))

    // Synced long before it opens presence: its first AWARENESS frame is answered with the states.
    const c = connect(relay.url)
    cleanups.push(() => c.close())
    const mc = c.memory('late')
    await eventually(() => expect(mc.status.connection).toBe('online'))
    mc.set('x', 1)
    await mc.whenSynced()
    expect(mc.presence.others.map((peer) => peer.state)).toEqual([])
    await eventually(() =>
      expect(
        others(mc)
          .map((peer) => peer.state)
          .sort(byName),
      ).toEqual([{ name: 'Ada' }, { name: 'Bob' }]),
    )
    // The others see it with the empty state every presence starts with.
    await eventually(() => expect(others(a.memory('late'))).toHaveLength(2))
    expect(
      others(a.memory('late')).find((peer) => peer.clientId === mc.presence.clientId)?.state,
    ).toEqual({})
  })

  it('comes back after a reconnect, and the reconnected client sees the others again', async () => {
    const { clients } = await relayAndClients(2)
    const [a, b] = clients as [ReturnType<typeof connect>, ReturnType<typeof connect>]
    const ma = a.memory('reconnect')
    const mb = b.memory('reconnect')
    ma.presence.setState({ name: 'Ada' })
    mb.presence.setState({ name: 'Bob' })
    await eventually(() => expect(others(mb)).toHaveLength(1))
    await eventually(() => expect(others(ma)).toHaveLength(1))

    a.connection.reconnectNow()
    await eventually(() => expect(ma.status.connection).toBe('online'))
    await eventually(() => expect(others(ma).map((peer) => peer.state)).toEqual([{ name: 'Bob' }]))
    await eventually(() => expect(others(mb).map((peer) => peer.state)).toEqual([{ name: 'Ada' }]))
    // And it stays: the old session's removal did not outlive the new announcement.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(others(mb).map((peer) => peer.state)).toEqual([{ name: 'Ada' }])
  })

  it('refuses bad AWARENESS frames to their sender only', async () => {
    const { relay, clients } = await relayAndClients(1)
    const mb = clients[0]!.memory('hostile')
    mb.presence.setState({ name: 'Bob' })
    await eventually(() => expect(mb.status.connection).toBe('online'))
    const raw = await rawSession(relay.url, 'hostile')
    await eventually(() =>
      expect(raw.frames.some((frame) => frame.type === MessageType.sync)).toBe(true),
    )

    const arrayState = encoding.createEncoder()
    encoding.writeVarUint(arrayState, 1)
    encoding.writeVarUint(arrayState, 7)
    encoding.writeVarUint(arrayState, 1)
    encoding.writeVarString(arrayState, '[1,2]')
    const tooMany = encoding.createEncoder()
    encoding.writeVarUint(tooMany, 40)
    for (let id = 1; id <= 40; id++) {
      encoding.writeVarUint(tooMany, id)
      encoding.writeVarUint(tooMany, 1)
      encoding.writeVarString(tooMany, '{}')
    }
    const bad = [
      new Uint8Array([0xff, 0xff, 0xff]), // does not decode
      new Uint8Array([1, 7, 1, 3, 0x7b, 0x7b, 0x7b]), // '{{{' is not JSON
      encoding.toUint8Array(arrayState),
      encoding.toUint8Array(tooMany),
      encodeBig(70 * 1024),
    ]
    for (const payload of bad) raw.send(payload)
    await eventually(() =>
      expect(
        raw.frames.filter(
          (frame) => frame.type === MessageType.error && frame.code === ErrorCode.badMessage,
        ),
      ).toHaveLength(bad.length),
    )
    expect(raw.socket.readyState).toBe(WebSocket.OPEN)
    expect(others(mb)).toEqual([])
    expect(clients[0]!.errors).toEqual([])
  })
})

function byName(a: unknown, b: unknown): number {
  return String((a as { name: string }).name).localeCompare(String((b as { name: string }).name))
}

/** One state with a string of `bytes` characters. */
function encodeBig(bytes: number): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, 9)
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarString(encoder, JSON.stringify({ big: 'x'.repeat(bytes) }))
  return encoding.toUint8Array(encoder)
}
