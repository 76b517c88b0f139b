/**
 * A client created on first use and closed after its last user let go. Users take it in
 * effects and give it back in their cleanups; the close waits a moment, so that StrictMode's
 * unmount-and-remount of effects (or any quick remount) reuses the same client and socket.
 */
import type { RememClient } from '@remem/client'

/** How long an unused client stays open, waiting for a remount. */
const CLOSE_DELAY_MS = 100

export class ClientHolder {
  readonly #create: () => RememClient
  #client: RememClient | null = null
  #users = 0
  #closeTimer: ReturnType<typeof setTimeout> | null = null

  constructor(create: () => RememClient) {
    this.#create = create
  }

  /** The client while someone holds it, else `null`. */
  get current(): RememClient | null {
    return this.#client
  }

  /** The client, created if there is none; pair every call with {@link release}. */
  acquire(): RememClient {
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer)
    this.#closeTimer = null
    this.#users++
    this.#client ??= this.#create()
    return this.#client
  }

  /** Gives the client back; the last release closes it after a short delay. */
  release(): void {
    this.#users = Math.max(0, this.#users - 1)
    if (this.#users > 0 || this.#closeTimer !== null) return
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = null
      const client = this.#client
      this.#client = null
      client?.close().catch((error: unknown) => {
        console.warn(`[remem] closing the client failed: ${String(error)}`)
      })
    }, CLOSE_DELAY_MS)
  }
}
