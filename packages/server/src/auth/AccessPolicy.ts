/**
 * Who may open which memory, and how: the relay's `secret` (built-in tokens) and its
 * `authorize` hook, or neither (an open relay: everyone reads and writes everything).
 *
 * With a secret, AUTH's token is verified once per connection (a bad or expired one closes
 * the socket with 4401) and its claims decide each memory. An `authorize` hook, when given,
 * decides each memory instead, seeing the token, the verified claims (with a secret) and the
 * upgrade request.
 */
import type { IncomingMessage } from 'node:http'
import type { Logger } from '../logger.ts'
import {
  type Access,
  type TokenClaims,
  type TokenFailure,
  accessFromClaims,
  secretKey,
  verifyToken,
} from './token.ts'

/** What an `authorize` hook is asked about: one connection opening one memory. */
export interface AuthorizeContext {
  /** The token the connection sent in AUTH, or null when it sent none. */
  token: string | null
  /** The token's verified claims when the relay has a `secret`; otherwise null. */
  claims: TokenClaims | null
  /** The memory being opened. */
  memory: string
  /** The HTTP upgrade request of the connection (headers, `socket.remoteAddress`). */
  request: IncomingMessage
}

/**
 * Decides what a connection may do with a memory: `'write'` (read and write), `'read'` or
 * `'none'`. Called once per connection and memory, at its SYNC step 1. A throw counts as
 * `'none'` (and is logged).
 */
export type Authorize = (context: AuthorizeContext) => Access | Promise<Access>

export type AuthenticateResult = { ok: true; claims: TokenClaims | null } | TokenFailure

const ACCESS_VALUES: ReadonlySet<unknown> = new Set(['write', 'read', 'none'])

export class AccessPolicy {
  /** True when the relay checks nothing: no secret and no hook. */
  readonly open: boolean
  /**
   * Whether `decide` needs the connection's upgrade request (an `authorize` hook sees it).
   * Without a hook a connection does not keep it: about 1.1 KB of heap per idle connection.
   */
  readonly needsRequest: boolean
  private readonly key: Uint8Array | null

  constructor(
    options: { secret?: string | undefined; authorize?: Authorize | undefined },
    private readonly logger: Logger,
    private readonly authorize: Authorize | null = options.authorize ?? null,
  ) {
    this.key = options.secret === undefined ? null : secretKey(options.secret)
    this.open = this.key === null && this.authorize === null
    this.needsRequest = this.authorize !== null
  }

  /** Checks AUTH's token. Without a secret every token passes (a hook may still refuse it). */
  async authenticate(token: string): Promise<AuthenticateResult> {
    if (this.key === null) return { ok: true, claims: null }
    return verifyToken(this.key, token)
  }

  /**
   * The access of one connection to one memory; never rejects. `request` may be null only
   * when `needsRequest` is false.
   */
  async decide(context: Omit<AuthorizeContext, 'request'> & { request: IncomingMessage | null }): Promise<Access> {
    if (this.authorize) {
      try {
        if (!context.request) throw new Error('no upgrade request for the hook (see needsRequest)')
        const access = await this.authorize({ ...context, request: context.request })
        if (ACCESS_VALUES.has(access)) return access
        this.logger.error('authorize returned neither write, read nor none; refusing', {
          memory: context.memory,
          returned: String(access),
        })
      } catch (error) {
        this.logger.error('authorize threw; refusing', {
          memory: context.memory,
          error: String(error),
        })
      }
      return 'none'
    }
    if (this.key === null) return 'write'
    return context.claims ? accessFromClaims(context.claims, context.memory) : 'none'
  }
}
