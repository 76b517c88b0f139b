/**
 * The relay's built-in tokens: JWTs signed with HS256 by a secret the relay and the issuer
 * share (`REMEM_SECRET`). A token names the memories it opens (exact names, or prefixes
 * ending in `*`), the access it grants (`read` or `write`) and when it expires.
 *
 * Claims: `mem` (array of names and patterns), `acc` ('read' | 'write'), `exp`, `iat`, and
 * an optional `sub` (who it was issued to; logged, not checked).
 */
import { SignJWT, errors, jwtVerify } from 'jose'

/** What a connection may do with a memory. */
export type Access = 'write' | 'read' | 'none'

/** The verified content of a built-in token. */
export interface TokenClaims {
  /** Memory names and patterns (`team-*`; `*` alone matches every memory). */
  memories: string[]
  access: 'read' | 'write'
  /** Expiry, in seconds since the epoch. */
  expiresAt: number
  subject?: string
}

/** Options of {@link createToken}. */
export interface CreateTokenOptions {
  /**
   * Memories the token opens: exact names, or patterns ending in `*` (`team-*`; `*` alone
   * is every memory).
   * @example ['dashboard', 'team-42-*']
   */
  memories: string | readonly string[]
  /** `write` also allows reading. @default 'write' */
  access?: 'read' | 'write'
  /**
   * How long the token is valid: seconds, or a jose time span (`'15m'`, `'1h'`, `'7d'`).
   * @default '1h'
   */
  expiresIn?: number | string
  /** Who the token is for (the JWT `sub`); the relay logs it. */
  subject?: string
}

/** Shortest secret accepted: HS256 wants at least 256 bits. */
export const MIN_SECRET_LENGTH = 32

const ALGORITHM = 'HS256'
const MEMORY_PATTERN = /^[A-Za-z0-9_.@-]{0,200}\*?$/

/** A secret or token option that cannot work; the message says what to change. */
export class TokenError extends Error {
  override readonly name = 'TokenError'
}

/** Checks a relay secret and returns its key bytes. */
export function secretKey(secret: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new TokenError(
      `the relay secret (REMEM_SECRET, --secret, or the secret option) must be at least ${MIN_SECRET_LENGTH} characters; generate one with \`openssl rand -base64 32\``,
    )
  }
  return new TextEncoder().encode(secret)
}

/**
 * Signs a token for a relay started with the same `secret`.
 * @example
 * const token = await createToken(process.env.REMEM_SECRET!, { memories: ['board'], access: 'read', expiresIn: '1h' })
 */
export async function createToken(secret: string, options: CreateTokenOptions): Promise<string> {
  const key = secretKey(secret)
  const memories = typeof options.memories === 'string' ? [options.memories] : [...options.memories]
  if (memories.length === 0) throw new TokenError('a token needs at least one memory (memories)')
  for (const memory of memories) {
    if (!MEMORY_PATTERN.test(memory) || memory === '') {
      throw new TokenError(
        `memories: ${JSON.stringify(memory)} is neither a memory name nor a pattern ending in "*"`,
      )
    }
  }
  const access = options.access ?? 'write'
  if (access !== 'read' && access !== 'write') {
    throw new TokenError(`access must be 'read' or 'write', got ${JSON.stringify(access)}`)
  }
  const now = Math.floor(Date.now() / 1000)
  const expiresIn = options.expiresIn ?? '1h'
  const jwt = new SignJWT({ mem: memories, acc: access })
    .setProtectedHeader({ alg: ALGORITHM })
    .setIssuedAt(now)
    .setExpirationTime(typeof expiresIn === 'number' ? now + Math.round(expiresIn) : expiresIn)
  if (options.subject !== undefined) jwt.setSubject(options.subject)
  return jwt.sign(key)
}

/** Why a token was refused: `expired`, or `invalid` (signature, format or claims). */
export type TokenFailure = { ok: false; reason: 'expired' | 'invalid'; message: string }

/** Verifies a built-in token; never throws. */
export async function verifyToken(
  key: Uint8Array,
  token: string,
): Promise<{ ok: true; claims: TokenClaims } | TokenFailure> {
  let payload
  try {
    ;({ payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      requiredClaims: ['exp'],
    }))
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      return { ok: false, reason: 'expired', message: 'the token expired: get a new one' }
    }
    return {
      ok: false,
      reason: 'invalid',
      message: 'the token is not valid for this relay (signature, format or claims)',
    }
  }
  const { mem, acc, exp, sub } = payload as {
    mem?: unknown
    acc?: unknown
    exp?: unknown
    sub?: unknown
  }
  if (
    !Array.isArray(mem) ||
    !mem.every((m): m is string => typeof m === 'string') ||
    (acc !== 'read' && acc !== 'write') ||
    typeof exp !== 'number'
  ) {
    return { ok: false, reason: 'invalid', message: 'the token lacks the claims mem and acc' }
  }
  return {
    ok: true,
    claims: {
      memories: mem,
      access: acc,
      expiresAt: exp,
      ...(typeof sub === 'string' ? { subject: sub } : {}),
    },
  }
}

/** Whether `memory` is one of `patterns` (exact names, or prefixes ending in `*`). */
export function matchesMemory(patterns: readonly string[], memory: string): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('*') ? memory.startsWith(pattern.slice(0, -1)) : pattern === memory,
  )
}

/** The access a built-in token grants to `memory`. */
export function accessFromClaims(claims: TokenClaims, memory: string): Access {
  return matchesMemory(claims.memories, memory) ? claims.access : 'none'
}
