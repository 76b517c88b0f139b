/**
 * A client that speaks the wire protocol by hand (for tests of what the relay refuses):
 * it sends any frame, records every frame the relay sends, and keeps a mirror document of
 * the SYNC frames it receives.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { type Message, MessageType, decodeMessage, encodeMessage } from '@remem/client/protocol'

type ErrorFrame = Extract<Message, { type: typeof MessageType.error }>

export interface RawClientOptions {
  /** Sent as the first frame (AUTH) once the socket opens. */
  token?: string
  /** The Origin header of the upgrade request. */
  origin?: string
  /** Keep `mirror` up to date with the SYNC frames received. @default true */
  mirror?: boolean
}

export class RawClient {
  readonly frames: Message[] = []
  readonly mirror = new Y.Doc()
  closed: { code: number; reason: string } | null = null
  private barriers = 0
  private readonly listeners = new Set<() => void>()

  private constructor(
    readonly socket: WebSocket,
    mirror: boolean,
  ) {
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return
      const message = decodeMessage(new Uint8Array(data))
      this.frames.push(message)
      if (mirror && message.type === MessageType.sync) applySync(this.mirror, message.payload)
      this.notify()
    })
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.notify()
    })
  }

  /** Opens a socket (sending AUTH first when `token` is given). Rejects when the upgrade fails. */
  static open(url: string, options: RawClientOptions = {}): Promise<RawClient> {
    const socket = new WebSocket(
      url,
      options.origin !== undefined ? { origin: options.origin } : {},
    )
    const client = new RawClient(socket, options.mirror ?? true)
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        if (options.token !== undefined) client.send(authFrame(options.token))
        resolve(client)
      })
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate()
        reject(
          Object.assign(new Error(`upgrade refused: HTTP ${response.statusCode}`), {
            status: response.statusCode,
          }),
        )
      })
      socket.once('error', reject)
    })
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  send(frame: Uint8Array | string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame)
  }

  /** Resolves with `check()` once it is defined (re-checked on every frame and on close). */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        const value = check()
        if (value === undefined) return
        this.listeners.delete(listener)
        clearTimeout(timer)
        resolve(value)
      }
      const timer = setTimeout(() => {
        this.listeners.delete(listener)
        reject(new Error(`timed out waiting for ${what}; closed: ${JSON.stringify(this.closed)}`))
      }, timeoutMs)
      this.listeners.add(listener)
      listener()
    })
  }

  /** Resolves with the close once the relay closed the socket. */
  whenClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed ?? undefined, 'the socket to close', timeoutMs)
  }

  /**
   * Waits until the relay has handled everything sent so far (it answers a SYNC for an
   * invalid name at once, in order). Returns the close, if the socket was closed instead.
   */
  async barrier(timeoutMs = 5_000): Promise<{ code: number; reason: string } | null> {
    const token = `barrier:${++this.barriers}`
    this.send(syncStep1(token, new Y.Doc()))
    return this.until(
      () => this.closed ?? (this.errors().some((e) => e.name === token) ? null : undefined),
      'a barrier',
      timeoutMs,
    )
  }

  /** SYNC step 1 for `name`; resolves once the relay answered with its own step 1. */
  async subscribe(name: string, clientId?: number): Promise<void> {
    const before = this.frames.length
    this.send(syncStep1(name, this.mirror, clientId))
    await this.until(
      () =>
        this.frames
          .slice(before)
          .some((f) => f.type === MessageType.sync && f.name === name && isStep1(f.payload)) ||
        undefined,
      `the relay's SYNC step 1 for ${name}`,
    )
  }

  /** SYNC step 1 for `name`; resolves with the relay's first answer: ACCESS or ERROR. */
  async request(name: string): Promise<Message> {
    const before = this.frames.length
    this.send(syncStep1(name, this.mirror))
    return this.until(
      () =>
        this.frames
          .slice(before)
          .find(
            (f) =>
              f.name === name && (f.type === MessageType.access || f.type === MessageType.error),
          ),
      `ACCESS or ERROR for ${name}`,
    )
  }

  errors(from = 0): ErrorFrame[] {
    return this.frames.slice(from).filter((f): f is ErrorFrame => f.type === MessageType.error)
  }

  /** ERRORs other than the barriers' answers. */
  refusals(from = 0): ErrorFrame[] {
    return this.errors(from).filter((e) => !e.name.startsWith('barrier:'))
  }

  acks(from = 0): number[] {
    return this.frames.slice(from).flatMap((f) => (f.type === MessageType.ack ? [f.seq] : []))
  }

  close(): void {
    this.socket.terminate()
  }
}

export function authFrame(token: string): Uint8Array {
  return encodeMessage({ type: MessageType.auth, name: '', token })
}

export function syncStep1(name: string, doc: Y.Doc, clientId?: number): Uint8Array {
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, doc)
  if (clientId !== undefined) encoding.writeVarUint(encoder, clientId)
  return encodeMessage({ type: MessageType.sync, name, payload: encoding.toUint8Array(encoder) })
}

export function isStep1(payload: Uint8Array): boolean {
  return decoding.readVarUint(decoding.createDecoder(payload)) === syncProtocol.messageYjsSyncStep1
}

function applySync(doc: Y.Doc, payload: Uint8Array): void {
  const decoder = decoding.createDecoder(payload)
  if (decoding.readVarUint(decoder) === syncProtocol.messageYjsSyncStep1) return
  Y.applyUpdate(doc, decoding.readVarUint8Array(decoder))
}

export const updateFrame = (name: string, seq: number, update: Uint8Array): Uint8Array =>
  encodeMessage({ type: MessageType.update, name, seq, update })

/** What `edit` adds to a copy of `base`, as a peer with client id `client` would send it. */
export function peerUpdate(client: number, base: Y.Doc, edit: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  // After the base: Yjs picks a new id when an update brings structs of its own id.
  doc.clientID = client
  const before = Y.encodeStateVector(doc)
  edit(doc)
  return Y.encodeStateAsUpdate(doc, before)
}

/** An update adding one top-level entry in remem's layout (`{ k, v }` on the root array). */
export function entryUpdate(client: number, base: Y.Doc, key: string, value: unknown): Uint8Array {
  return peerUpdate(client, base, (doc) => doc.getArray('root').push([{ k: key, v: value }]))
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const randomBytes = (random: () => number, length: number): Uint8Array =>
  Uint8Array.from({ length }, () => Math.floor(random() * 256))
