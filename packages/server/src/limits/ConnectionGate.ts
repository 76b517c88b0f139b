/**
 * Checks WebSocket upgrades before a connection exists: the `Origin` header against
 * `allowedOrigins` (403), and the number of open connections from the client's address
 * against `maxConnectionsPerIp` (429). Used as ws's `verifyClient`.
 */
import type { IncomingMessage } from 'node:http'

export interface ConnectionGateOptions {
  /** 0: no limit. */
  maxConnectionsPerIp: number
  /** null: any origin. */
  allowedOrigins: readonly string[] | null
}

export type UpgradeRefusal = 'originNotAllowed' | 'tooManyConnections'

export class ConnectionGate {
  private readonly perIp = new Map<string, number>()
  private readonly origins: ReadonlySet<string> | null

  constructor(
    private readonly options: ConnectionGateOptions,
    private readonly onRefuse: (reason: UpgradeRefusal, request: IncomingMessage) => void,
  ) {
    this.origins = options.allowedOrigins
      ? new Set(options.allowedOrigins.map(normalizeOrigin))
      : null
  }

  /** ws's `verifyClient` (async form). */
  readonly verify = (
    info: { origin: string; req: IncomingMessage },
    callback: (ok: boolean, code?: number, message?: string) => void,
  ): void => {
    // Browsers always send Origin; other clients (Node, Python) need not, and are not the
    // ones a page could turn against the relay.
    const origin = info.req.headers.origin
    if (
      this.origins &&
      origin !== undefined &&
      !this.origins.has('*') &&
      !this.origins.has(normalizeOrigin(origin))
    ) {
      this.onRefuse('originNotAllowed', info.req)
      return callback(false, 403, "origin not allowed: add it to the relay's allowedOrigins")
    }
    const max = this.options.maxConnectionsPerIp
    if (max > 0 && (this.perIp.get(addressOf(info.req)) ?? 0) >= max) {
      this.onRefuse('tooManyConnections', info.req)
      return callback(
        false,
        429,
        `more than ${max} connections from this address (maxConnectionsPerIp)`,
      )
    }
    callback(true)
  }

  /** Counts an accepted connection; returns its address, to give `closed` once it closes. */
  opened(request: IncomingMessage): string {
    const address = addressOf(request)
    this.perIp.set(address, (this.perIp.get(address) ?? 0) + 1)
    return address
  }

  /** Uncounts a connection from `address` (what `opened` returned), once. */
  closed(address: string): void {
    const count = (this.perIp.get(address) ?? 1) - 1
    if (count > 0) this.perIp.set(address, count)
    else this.perIp.delete(address)
  }

  /** Addresses with open connections (for inspection). */
  get addresses(): number {
    return this.perIp.size
  }
}

function addressOf(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? 'unknown'
  return address.startsWith('::ffff:') ? address.slice(7) : address
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase()
}
