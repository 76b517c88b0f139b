/** Test helpers: synced views over plain Y.Docs, without a client or a relay. */
import * as Y from 'yjs'
import { getRoot } from '../../model/layout.ts'
import { createViewContext, type ViewContextOptions } from '../../model/ViewContext.ts'
import { SyncedDict } from '../../SyncedDict.ts'
import type { SyncedList } from '../../SyncedList.ts'

/** A document and the root view over it. */
export function createViews(doc = new Y.Doc(), options: ViewContextOptions = {}) {
  const context = createViewContext(doc, options)
  const root = new SyncedDict(getRoot(doc), context)
  return { doc, context, root, array: getRoot(doc) }
}

/** The encoded state, to compare before and after a refused write. */
export function stateOf(doc: Y.Doc): string {
  return Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64')
}

/** Sends every update of each document to the others, at once. */
export function connect(...docs: Y.Doc[]): void {
  for (const from of docs) {
    from.on('update', (update: Uint8Array) => {
      for (const to of docs) if (to !== from) Y.applyUpdate(to, update)
    })
  }
}

/**
 * Exchanges the missing state between documents that are not connected, by state vector (as
 * remem's handshake does), applied with `origin`.
 */
export function syncAll(docs: readonly Y.Doc[], origin?: unknown): void {
  for (const from of docs) {
    for (const to of docs) {
      if (to !== from) Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)), origin)
    }
  }
}

export function list(root: SyncedDict, key: string): SyncedList {
  const value = root.get<SyncedList>(key)
  if (!value) throw new Error(`no list at ${key}`)
  return value
}

export function dict(root: SyncedDict, key: string): SyncedDict {
  const value = root.get<SyncedDict>(key)
  if (!value) throw new Error(`no dict at ${key}`)
  return value
}

/** A seeded pseudo-random generator (mulberry32), so that a failing run can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A seeded random network in the manner of Yjs's TestConnector: each peer's updates wait in
 * the other peers' inboxes and are delivered in random order, sometimes twice; peers go
 * offline (their inbox waits) and come back.
 */
export class RandomNetwork {
  readonly docs: Y.Doc[]
  readonly next: () => number
  readonly #inbox = new Map<Y.Doc, Uint8Array[]>()
  readonly #online = new Set<Y.Doc>()

  constructor(seed: number, peers: number) {
    this.next = random(seed)
    this.docs = Array.from({ length: peers }, () => new Y.Doc())
    for (const doc of this.docs) {
      this.#inbox.set(doc, [])
      this.#online.add(doc)
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === this) return
        for (const to of this.docs) if (to !== doc) this.#inbox.get(to)!.push(update)
      })
    }
  }

  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)]!
  }

  /** Delivers a few random messages, and maybe toggles a peer's connection. */
  step(): void {
    if (this.next() < 0.05) {
      const doc = this.pick(this.docs)
      if (this.#online.has(doc)) this.#online.delete(doc)
      else this.#online.add(doc)
    }
    for (const doc of this.#online) {
      const inbox = this.#inbox.get(doc)!
      const count = Math.floor(this.next() * 3)
      for (let i = 0; i < count && inbox.length > 0; i++) {
        const at = Math.floor(this.next() * inbox.length)
        const update = inbox[at]!
        // Sometimes keep the message, so that it is delivered again later.
        if (this.next() > 0.1) inbox.splice(at, 1)
        Y.applyUpdate(doc, update, this)
      }
    }
  }

  /**
   * Brings every peer online, delivers everything, then lets each pair exchange what the
   * other lacks by state vector, as remem's handshake does. That last step is needed: Yjs
   * 13.6 can lose a struct it holds as pending (its dependencies missing) when another
   * pending update arrives after it (seen: a 3-peer run where a peer's pending 878063:133
   * was gone once 878063:134 came), and only a state-vector exchange brings it back. Through
   * a relay, updates arrive in order and a reconnect's handshake heals the same way.
   */
  flush(): void {
    for (const doc of this.docs) this.#online.add(doc)
    for (const doc of this.docs) {
      const inbox = this.#inbox.get(doc)!
      while (inbox.length > 0)
        Y.applyUpdate(doc, inbox.splice(Math.floor(this.next() * inbox.length), 1)[0]!, this)
    }
    syncAll(this.docs, this)
  }
}
