/**
 * Who may use the inspector: the same rules as the relay's sockets. An open relay (no
 * secret, no authorize hook) shows everything to everyone, with write access. Otherwise a
 * request needs `Authorization: Bearer <token>`; with a secret it must be signed by it and
 * not expired (else 401), and each memory shows only where the token (or the authorize
 * hook) grants read or write access.
 */
import type { IncomingMessage } from 'node:http'
import type { AccessPolicy } from '../auth/AccessPolicy.ts'
import type { Access } from '../auth/token.ts'

export type InspectAuth =
  { ok: true; accessOf: (memory: string) => Promise<Access> } | { ok: false; message: string }

export async function authorizeInspect(
  policy: AccessPolicy,
  request: IncomingMessage,
): Promise<InspectAuth> {
  if (policy.open) return { ok: true, accessOf: () => Promise.resolve('write') }
  const header = request.headers.authorization ?? ''
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1]
  if (token === undefined) {
    return {
      ok: false,
      message:
        'this relay checks tokens: send Authorization: Bearer <token>, a token of this relay (make one with `remem-relay token --memory "*" --access read`)',
    }
  }
  const result = await policy.authenticate(token)
  if (!result.ok) return { ok: false, message: result.message }
  const { claims } = result
  return { ok: true, accessOf: (memory) => policy.decide({ token, claims, memory, request }) }
}
