/**
 * The sync status of a whole client, combined from the memories opened through the hooks.
 * (`@remem/client` has a status per memory only.)
 */
import type { Memory, MemoryStatus, RememClient } from '@remem/client'

/** The status before anything is known, and on the server. */
export const INITIAL_STATUS: MemoryStatus = Object.freeze({ connection: 'connecting', pending: 0 })

/**
 * Memories of one client and their combined status: `connection` is `'offline'` if any is
 * offline, else `'connecting'` if any is still connecting (or none is known), else
 * `'online'`; `pending` is the sum. It listens to the memories only while it has listeners.
 */
export class ClientStatus {
  readonly #memories = new Set<Memory>()
  readonly #listeners = new Set<() => void>()
  #offs: Array<() => void> = []
  #status: MemoryStatus = INITIAL_STATUS

  /** Adds a memory; may be called during render (listeners hear of it in a microtask). */
  add(memory: Memory): void {
    if (this.#memories.has(memory)) return
    this.#memories.add(memory)
    if (this.#listeners.size === 0) return
    this.#offs.push(memory.subscribeStatus(this.#notify))
    queueMicrotask(this.#notify)
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) {
      this.#offs = [...this.#memories].map((memory) => memory.subscribeStatus(this.#notify))
    }
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      for (const off of this.#offs) off()
      this.#offs = []
    }
  }

  getSnapshot = (): MemoryStatus => {
    let offline = false
    let connecting = this.#memories.size === 0
    let pending = 0
    for (const memory of this.#memories) {
      const status = memory.status
      offline ||= status.connection === 'offline'
      connecting ||= status.connection === 'connecting'
      pending += status.pending
    }
    const connection = offline ? 'offline' : connecting ? 'connecting' : 'online'
    if (connection !== this.#status.connection || pending !== this.#status.pending) {
      this.#status = Object.freeze({ connection, pending })
    }
    return this.#status
  }

  readonly #notify = (): void => {
    for (const listener of [...this.#listeners]) listener()
  }
}

const statuses = new WeakMap<RememClient, ClientStatus>()

/** The combined status of `client`'s memories opened through the hooks. */
export function clientStatus(client: RememClient): ClientStatus {
  let status = statuses.get(client)
  if (!status) {
    status = new ClientStatus()
    statuses.set(client, status)
  }
  return status
}

/** `client.memory(name)`, recorded for {@link clientStatus}. */
export function openMemory(client: RememClient, name: string): Memory {
  const memory = client.memory(name)
  clientStatus(client).add(memory)
  return memory
}
