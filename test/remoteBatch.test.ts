/**
 * Issue 12's client hot path: the relay's frames that a client reads in one task (a reader
 * that fell behind gets many in one piece of socket data) are applied in one transaction, in
 * order, and a frame of another kind (an ACK, an EPOCH) is handled only after the updates
 * before it.
 */
import { afterEach, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { RelayHandle } from '@remem/server'
import { type WebSocketLike, createClient } from '@remem/client'
import { connect, eventually, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A WebSocket whose incoming frames can be held back, then delivered all in one task. */
class HoldingSocket implements WebSocketLike {
  static last: HoldingSocket | null = null
  binaryType = 'arraybuffer'
  onopen: ((event: unknown) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  holding = false
  readonly held: unknown[] = []
  private readonly inner: WebSocket

  constructor(url: string) {
    const inner = new WebSocket(url)
    inner.binaryType = 'arraybuffer'
    inner.onopen = (event) => this.onopen?.(event)
    inner.onclose = (event) => this.onclose?.({ code: event.code, reason: event.reason })
    inner.onerror = (event) => this.onerror?.(event)
    inner.onmessage = (event) => {
      if (this.holding) this.held.push(event.data)
      else this.onmessage?.({ data: event.data })
    }
    this.inner = inner
    HoldingSocket.last = this
  }

  get readyState(): number {
    return this.inner.readyState
  }

  send(data: Uint8Array): void {
    this.inner.send(data)
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason)
  }

  /** Delivers every held frame, in order, in this task. */
  release(): void {
    this.holding = false
    for (const data of this.held.splice(0)) this.onmessage?.({ data })
  }
}

async function relay(): Promise<RelayHandle> {
  const handle = await startRelay({ idleUnloadMs: 60_000 })
  cleanups.push(() => handle.close())
  return handle
}

function client(url: string, options: Parameters<typeof connect>[1] = {}): ReturnType<typeof connect> {
  const c = connect(url, options)
  cleanups.push(() => c.close())
  return c
}

/** A reader on a holding socket and a writer, both synced on memory `name`. */
async function readerAndWriter(handle: RelayHandle, name: string) {
  const reader = client(handle.url, { WebSocket: HoldingSocket as unknown as typeof WebSocket })
  const socket = HoldingSocket.last!
  const read = reader.memory(name)
  const writer = client(handle.url)
  const write = writer.memory(name)
  write.set('start', true)
  await write.whenSynced()
  await eventually(() => expect(read.get('start')).toBe(true))
  return { reader, socket, read, writer, write }
}

it('applies the updates read in one task in one transaction, in order', async () => {
  const handle = await relay()
  const { socket, read, write, reader } = await readerAndWriter(handle, 'batch')
  let notified = 0
  read.subscribe(() => notified++)
  socket.holding = true
  for (let i = 1; i <= 5; i++) {
    write.set('n', i)
    write.set(`k${i}`, i)
    await write.whenSynced()
  }
  await eventually(() => expect(socket.held.length).toBeGreaterThanOrEqual(5))
  socket.release()
  await new Promise((resolve) => setTimeout(resolve, 0))
  expect(notified).toBe(1)
  expect(read.toJSON()).toEqual(write.toJSON())
  expect(read.get('n')).toBe(5)
  expect(reader.errors).toEqual([])
})

it('handles an EPOCH only after the updates of the old epoch that came before it', async () => {
  const handle = await relay()
  const { socket, read, write, reader } = await readerAndWriter(handle, 'batch-epoch')
  socket.holding = true
  for (let i = 1; i <= 3; i++) {
    write.set(`k${i}`, i)
    await write.whenSynced()
  }
  const room = handle.relay.rooms.get('batch-epoch')!
  await room.whenPersisted()
  await room.whenCompacted()
  const epoch = room.epoch
  await room.compact(true)
  expect(room.epoch).toBe(epoch + 1)
  await eventually(() => expect(socket.held.length).toBeGreaterThanOrEqual(4))
  socket.release()
  write.set('after', true)
  await write.whenSynced()
  await eventually(() => expect(read.get('after')).toBe(true))
  expect(read.toJSON()).toEqual(write.toJSON())
  const fresh = client(handle.url).memory('batch-epoch')
  await eventually(() => expect(fresh.toJSON()).toEqual(write.toJSON()))
  read.set('mine', 1)
  await read.whenSynced()
  await eventually(() => expect(fresh.get('mine')).toBe(1))
  expect(reader.errors).toEqual([])
})

it('applies the relay updates without Yjs encoding them (no update listener), and still queues local changes', async () => {
  const handle = await relay()
  const { read, write } = await readerAndWriter(handle, 'no-encoding')
  const observers = (read.doc as unknown as { _observers: Map<string, Set<unknown>> })._observers
  const listenedDuring: boolean[] = []
  read.doc.on('afterTransactionCleanup', (transaction: { local: boolean }) => {
    if (!transaction.local) listenedDuring.push(observers.has('update'))
  })
  for (let i = 0; i < 3; i++) {
    write.set('n', i)
    await write.whenSynced()
  }
  await eventually(() => expect(read.get('n')).toBe(2))
  expect(listenedDuring.length).toBeGreaterThan(0)
  expect(listenedDuring.every((listened) => !listened)).toBe(true)
  read.set('mine', true)
  expect(read.status.pending).toBe(1)
  await read.whenSynced()
  await eventually(() => expect(write.get('mine')).toBe(true))
})

it('reports a subscriber that throws while the relay updates apply, and keeps applying the next ones', async () => {
  const handle = await relay()
  const { socket, read, write, reader } = await readerAndWriter(handle, 'throwing-subscriber')
  let calls = 0
  read.subscribe(() => {
    calls++
    if (calls === 1) throw new Error('subscriber bug')
  })
  socket.holding = true
  for (let i = 1; i <= 2; i++) {
    write.set('n', i)
    await write.whenSynced()
  }
  await eventually(() => expect(socket.held.length).toBeGreaterThanOrEqual(2))
  socket.release()
  await eventually(() => expect(reader.errors.map((error) => String(error.cause))).toContain('Error: subscriber bug'))
  write.set('n', 3)
  await write.whenSynced()
  await eventually(() => expect(read.get('n')).toBe(3))
  expect(calls).toBeGreaterThanOrEqual(2)
})

/**
 * `ws`'s WebSocket, noting the kind of every frame it delivers to the client. Browser-like, its
 * binaryType starts as 'blob' and takes only 'blob' or 'arraybuffer', as a browser's does.
 */
function notingSocket(browserLike: boolean, kinds: string[], asked: string[] = []): typeof WebSocket {
  class NotingSocket implements WebSocketLike {
    onopen: ((event: unknown) => void) | null = null
    onclose: ((event: { code: number; reason: string }) => void) | null = null
    onerror: ((event: unknown) => void) | null = null
    onmessage: ((event: { data: unknown }) => void) | null = null
    readonly #inner: WebSocket
    #binaryType: string

    constructor(url: string) {
      const inner = new WebSocket(url)
      this.#binaryType = browserLike ? 'blob' : inner.binaryType
      inner.onopen = (event) => this.onopen?.(event)
      inner.onclose = (event) => this.onclose?.({ code: event.code, reason: event.reason })
      inner.onerror = (event) => this.onerror?.(event)
      inner.onmessage = ({ data }) => {
        kinds.push(Buffer.isBuffer(data) ? 'Buffer' : data instanceof ArrayBuffer ? 'ArrayBuffer' : typeof data)
        this.onmessage?.({ data })
      }
      this.#inner = inner
    }

    get binaryType(): string {
      return this.#binaryType
    }
    set binaryType(type: string) {
      asked.push(type)
      if (browserLike && type !== 'blob' && type !== 'arraybuffer') return
      this.#binaryType = type
      if (type !== 'blob') this.#inner.binaryType = type as WebSocket['binaryType']
    }
    get readyState(): number {
      return this.#inner.readyState
    }
    send(data: Uint8Array): void {
      this.#inner.send(data)
    }
    close(code?: number, reason?: string): void {
      this.#inner.close(code, reason)
    }
  }
  return NotingSocket as unknown as typeof WebSocket
}

it.each([
  ['ws (Node)', false, 'Buffer'],
  ['a browser-like WebSocket', true, 'ArrayBuffer'],
])('takes frames from %s as they come, without a copy where it can', async (_label, browserLike, kind) => {
  const handle = await relay()
  const kinds: string[] = []
  const reader = client(handle.url, { WebSocket: notingSocket(browserLike, kinds) })
  const read = reader.memory('frame-kinds')
  const write = client(handle.url).memory('frame-kinds')
  write.set('k', 1)
  await write.whenSynced()
  await eventually(() => expect(read.get('k')).toBe(1))
  read.set('back', 2)
  await read.whenSynced()
  expect(kinds.length).toBeGreaterThan(0)
  expect(new Set(kinds)).toEqual(new Set([kind]))
  expect(reader.errors).toEqual([])
})

it("never asks the platform's own WebSocket for 'nodebuffer' (browsers warn of it)", async () => {
  const handle = await relay()
  const kinds: string[] = []
  const asked: string[] = []
  const platform = globalThis as { WebSocket?: unknown }
  const before = platform.WebSocket
  platform.WebSocket = notingSocket(true, kinds, asked)
  try {
    const reader = createClient({ url: handle.url })
    cleanups.push(() => reader.close())
    const read = reader.memory('platform-socket')
    const write = client(handle.url).memory('platform-socket')
    write.set('k', 1)
    await write.whenSynced()
    await eventually(() => expect(read.get('k')).toBe(1))
  } finally {
    platform.WebSocket = before
  }
  expect(asked).toEqual(['arraybuffer'])
  expect(new Set(kinds)).toEqual(new Set(['ArrayBuffer']))
})
