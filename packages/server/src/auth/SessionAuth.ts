/**
 * The credentials of one connection: the token from its AUTH frame (if any), its verified
 * claims, and the timer that ends the connection when the token expires.
 */
import type { IncomingMessage } from 'node:http'
import type { AccessPolicy } from './AccessPolicy.ts'
import type { Access, TokenClaims } from './token.ts'

/** setTimeout's longest delay; later expiries are re-armed when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1

/** Who is told when the token expires (the connection's session). */
export interface TokenHolder {
  tokenExpired(): void
}

/**
 * What a connection that has no `SessionAuth` may do with `memory`: one that sent no AUTH,
 * under a policy that needs no upgrade request. Sessions make a `SessionAuth` only when they
 * need one, so that an idle connection does not keep an empty one.
 */
export function accessWithoutToken(policy: AccessPolicy, memory: string): Promise<Access> {
  return policy.decide({ token: null, claims: null, memory, request: null })
}

export class SessionAuth {
  private token: string | null = null
  private claims: TokenClaims | null = null
  private expiryTimer: ReturnType<typeof setTimeout> | null = null
  private disposed = false
  /** The upgrade request, kept only for a policy that asks for it (`needsRequest`). */
  private readonly request: IncomingMessage | null

  constructor(
    private readonly policy: AccessPolicy,
    /** The upgrade request (null: the policy does not need it). */
    request: IncomingMessage | null,
    /** Told once the token has expired. */
    private readonly holder: TokenHolder,
  ) {
    this.request = policy.needsRequest ? request : null
  }

  /** Who the token was issued to, for logs. */
  get subject(): string | undefined {
    return this.claims?.subject
  }

  /** Checks AUTH's token; on success keeps it and arms the expiry. */
  async authenticate(token: string): Promise<{ ok: true } | { ok: false; message: string }> {
    const result = await this.policy.authenticate(token)
    if (!result.ok) return { ok: false, message: result.message }
    this.token = token
    this.claims = result.claims
    if (result.claims) this.armExpiry(result.claims.expiresAt * 1000)
    return { ok: true }
  }

  /** What this connection may do with `memory`. */
  access(memory: string): Promise<Access> {
    return this.policy.decide({
      token: this.token,
      claims: this.claims,
      memory,
      request: this.request,
    })
  }

  private armExpiry(expiresAtMs: number): void {
    if (this.disposed) return
    const delay = expiresAtMs - Date.now()
    if (delay <= 0) return this.holder.tokenExpired()
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = null
        this.armExpiry(expiresAtMs)
      },
      Math.min(delay, MAX_DELAY_MS),
    )
    this.expiryTimer.unref()
  }

  dispose(): void {
    this.disposed = true
    if (this.expiryTimer) clearTimeout(this.expiryTimer)
    this.expiryTimer = null
  }
}
