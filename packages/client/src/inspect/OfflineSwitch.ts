/**
 * A network monitor with a switch: while the switch is on, the client believes the network
 * is gone (it drops its socket and makes no attempt), without touching the browser's
 * network. Turning it off reconnects at once, as the browser's `online` event does.
 */
import type { NetworkMonitor } from '../connection/network.ts'

export class OfflineSwitch implements NetworkMonitor {
  #forced = false
  readonly #listeners = new Set<(online: boolean) => void>()

  constructor(private readonly platform: NetworkMonitor) {}

  /** Whether the switch holds the client offline. */
  get forced(): boolean {
    return this.#forced
  }

  isOnline(): boolean {
    return !this.#forced && this.platform.isOnline()
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener)
    // The platform's events pass only while the switch is off.
    const off = this.platform.subscribe((online) => {
      if (!this.#forced) listener(online)
    })
    return () => {
      this.#listeners.delete(listener)
      off()
    }
  }

  /** Holds the client offline (`true`) or lets it follow the platform again (`false`). */
  set(offline: boolean): void {
    if (offline === this.#forced) return
    this.#forced = offline
    const online = this.isOnline()
    // Going back while the platform itself is offline changes nothing for the connection.
    if (!offline && !online) return
    for (const listener of [...this.#listeners]) listener(online)
  }
}
