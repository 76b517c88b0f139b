/**
 * The client's connection: the token function is called before every connect, a dead
 * link (no close, no data) is noticed by the heartbeat within seconds, the browser's
 * `offline`/`online` events drop and restore the socket at once, and the relay answers
 * PING with PONG.
 */
import { type Server, type Socket, createConnection, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MessageType, decodeMessage, encodeMessage } from '@remem/client/protocol'
import type { ClientOptions, RememClient, WebSocketConstructor } from '@remem/client'
import { connect, eventually, sleep, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relay() {
  const handle = await startRelay()
  cleanups.push(() => handle.close())
  return handle
}

function client(
  url: string,
  options: Partial<ClientOptions> = {},
): RememClient & { errors: Error[] } {
  const c = connect(url, { storage: 'memory', ...options })
  cleanups.push(() => c.close())
  return c
}

/** A TCP proxy that can stop forwarding without closing anything: a link gone dead. */
async function deadLinkProxy(
  targetPort: number,
): Promise<{ url: string; freeze(): void; thaw(): void }> {
  let frozen = false
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort })
    sockets.add(inbound).add(outbound)
    inbound.on('data', (chunk) => {
      if (!frozen) outbound.write(chunk)
    })
    outbound.on('data', (chunk) => {
      if (!frozen) inbound.write(chunk)
    })
    const end = (): void => {
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on('close', end).on('error', end)
    outbound.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `ws://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
    },
  }
}

/** A network monitor the test switches, standing in for the browser's online/offline events. */
function fakeNetwork() {
  let online = true
  const listeners = new Set<(online: boolean) => void>()
  return {
    isOnline: () => online,
    subscribe(listener: (online: boolean) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(value: boolean) {
      online = value
      for (const listener of listeners) listener(value)
    },
  }
}

describe('token', () => {
  it('calls the token function before every connect and keeps the latest token', async () => {
    const { url, relay: server } = await relay()
    let calls = 0
    const c = client(url, { token: async () => `token-${++calls}` })
    const mem = c.memory('token')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    expect(calls).toBe(1)
    expect(c.connection.token).toBe('token-1')

    for (const session of server.sessions) session.socket.terminate()
    await eventually(() => expect(calls).toBe(2))
    await eventually(() => expect(mem.status.connection).toBe('online'))
    expect(c.connection.token).toBe('token-2')

    c.connection.reconnectNow()
    await eventually(() => expect(c.connection.token).toBe('token-3'))
    await eventually(() => expect(mem.status.connection).toBe('online'))
  })

  it('retries with backoff when the token function fails, and reports it', async () => {
    const { url } = await relay()
    let calls = 0
    const c = client(url, {
      token: () => {
        calls++
        if (calls < 3) throw new Error('token service down')
        return 'ok'
      },
    })
    const mem = c.memory('token-retry')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    expect(calls).toBe(3)
    expect(c.errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/token function failed.*token service down/),
      expect.stringMatching(/token function failed.*token service down/),
    ])
  })
})

describe('heartbeat', () => {
  it('the relay answers PING with PONG (empty name), also before any memory is open', async () => {
    const { url } = await relay()
    const socket = new WebSocket(url)
    cleanups.push(async () => socket.close())
    await new Promise((resolve) => socket.once('open', resolve))
    const reply = new Promise<Buffer>((resolve) =>
      socket.once('message', (data) => resolve(data as Buffer)),
    )
    socket.send(encodeMessage({ type: MessageType.ping, name: '' }))
    expect(decodeMessage(new Uint8Array(await reply))).toEqual({ type: MessageType.pong, name: '' })
  })

  it('notices a dead link within seconds and reconnects', async () => {
    const { port } = await relay()
    const proxy = await deadLinkProxy(port)
    const c = client(proxy.url, {
      heartbeat: { intervalMs: 500, timeoutMs: 500, connectTimeoutMs: 1000 },
    })
    const mem = c.memory('heartbeat')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    // Healthy but quiet: the heartbeat keeps it online.
    await sleep(1500)
    expect(mem.status.connection).toBe('online')

    proxy.freeze()
    const frozenAt = Date.now()
    await eventually(() => expect(mem.status.connection).not.toBe('online'), { timeoutMs: 5000 })
    expect(Date.now() - frozenAt).toBeLessThan(1500)
    proxy.thaw()
    await eventually(() => expect(mem.status.connection).toBe('online'))
    mem.set('after', true)
    await mem.whenSynced()
  })

  it('a blocked event loop is not taken for a dead link', async () => {
    const { url } = await relay()
    let blocks = 0
    /** Right after each PING (once the deadline is armed), a long task blocks the loop. */
    class BlockingWebSocket extends WebSocket {
      override send(data: Uint8Array): void {
        super.send(data)
        if (blocks > 0 && decodeMessage(data).type === MessageType.ping) {
          blocks--
          queueMicrotask(() => {
            const until = Date.now() + 800
            while (Date.now() < until) {
              // the PONG arrives meanwhile, but is read only after the timers run
            }
          })
        }
      }
    }
    const c = client(url, {
      WebSocket: BlockingWebSocket as unknown as WebSocketConstructor,
      heartbeat: { intervalMs: 100, timeoutMs: 200 },
    })
    const mem = c.memory('blocked-loop')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    const changes: string[] = []
    mem.subscribeStatus(() => changes.push(mem.status.connection))
    blocks = 3
    await eventually(() => expect(blocks).toBe(0))
    await sleep(500)
    expect(changes).toEqual([])
    expect(c.connection.recentDelays).toEqual([])
  })

  it('with the defaults, notices a dead link within six seconds', async () => {
    const { port } = await relay()
    const proxy = await deadLinkProxy(port)
    const mem = client(proxy.url).memory('heartbeat-default')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    proxy.freeze()
    const frozenAt = Date.now()
    await eventually(() => expect(mem.status.connection).not.toBe('online'), { timeoutMs: 9000 })
    expect(Date.now() - frozenAt).toBeLessThan(6500)
  })

  it('without a heartbeat a dead link goes unnoticed (the test above is not vacuous)', async () => {
    const { port } = await relay()
    const proxy = await deadLinkProxy(port)
    const c = client(proxy.url, { heartbeat: false })
    const mem = c.memory('no-heartbeat')
    await eventually(() => expect(mem.status.connection).toBe('online'))
    proxy.freeze()
    await sleep(1500)
    expect(mem.status.connection).toBe('online')
  })
})

describe('browser online/offline events', () => {
  it('goes offline at once on `offline` and reconnects at once on `online`', async () => {
    const { url } = await relay()
    const network = fakeNetwork()
    // Long backoff: only the `online` event can bring it back quickly.
    const c = client(url, { network, backoff: { minMs: 30_000, maxMs: 30_000 } })
    const mem = c.memory('network')
    await eventually(() => expect(mem.status.connection).toBe('online'))

    network.set(false)
    expect(mem.status.connection).toBe('offline')
    expect(c.status.connection).toBe('offline')
    mem.set('offline-edit', 1)
    expect(mem.status.pending).toBe(1)

    const backAt = Date.now()
    network.set(true)
    await eventually(() => expect(mem.status.connection).toBe('online'), { timeoutMs: 3000 })
    expect(Date.now() - backAt).toBeLessThan(1000)
    await mem.whenSynced()
    expect(mem.status.pending).toBe(0)
  })

  it('does not try to connect while the platform says it is offline', async () => {
    const { url, relay: server } = await relay()
    const network = fakeNetwork()
    network.set(false)
    const c = client(url, { network, backoff: { minMs: 10, maxMs: 20 } })
    const mem = c.memory('start-offline')
    await sleep(300)
    expect(server.sessions.size).toBe(0)
    expect(mem.status.connection).toBe('offline')
    network.set(true)
    await eventually(() => expect(mem.status.connection).toBe('online'))
  })
})
