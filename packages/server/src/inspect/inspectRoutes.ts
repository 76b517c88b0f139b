/**
 * The inspector's HTTP endpoints, served by a relay started with `inspect: true`
 * (`remem-relay --inspect`):
 *
 *   GET  /inspect          the page (static; it asks for a token and keeps it in the URL's
 *                          fragment, which browsers never send)
 *   GET  /inspect/data     the report as JSON (inspectReport.ts): 50 memories in detail,
 *                          loaded ones first, the names of the rest; `?memory=<name>` for one
 *   POST /inspect/write    `{ memory, key, value }` sets a top-level key, `{ memory, key,
 *                          delete: true }` deletes it: a normal, persisted, synced change;
 *                          only with write access to that memory (else 403)
 *
 * Data and writes need a token when the relay has a secret or an authorize hook: 401
 * without a valid one (inspectAccess.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dictDelete, dictSet, getRoot, type Json } from '@remem/client/protocol'
import type { AccessPolicy } from '../auth/AccessPolicy.ts'
import type { Access } from '../auth/token.ts'
import { authorizeInspect } from './inspectAccess.ts'
import { inspectPage } from './inspectPage.ts'
import { type ReportSource, inspectReport } from './inspectReport.ts'

const MAX_BODY_BYTES = 256 * 1024

/** Handles `/inspect*` requests; returns false for any other path. */
export function inspectRoutes(
  source: ReportSource,
  policy: AccessPolicy,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path === '/inspect' || path === '/inspect/') {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return (send(response, 405, { error: 'use GET' }), true)
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      })
      response.end(request.method === 'HEAD' ? undefined : inspectPage(policy.open))
      return true
    }
    const serve =
      path === '/inspect/data' ? serveData : path === '/inspect/write' ? serveWrite : null
    if (serve === null) return false
    void (async () => {
      try {
        const auth = await authorizeInspect(policy, request)
        if (!auth.ok) return send(response, 401, { error: auth.message })
        await serve(source, auth.accessOf, request, response)
      } catch (error) {
        send(response, 500, { error: `inspecting failed: ${String(error)}` })
      }
    })()
    return true
  }
}

/** What one endpoint does for a request whose token was accepted. */
type Endpoint = (
  source: ReportSource,
  accessOf: (memory: string) => Promise<Access>,
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<void>

const serveData: Endpoint = async (source, accessOf, request, response) => {
  const query = new URL(request.url ?? '/', 'http://relay').searchParams
  const memory = query.get('memory') ?? undefined
  send(response, 200, await inspectReport(source, accessOf, { memory }))
}

const serveWrite: Endpoint = async (source, accessOf, request, response) => {
  if (request.method !== 'POST') return send(response, 405, { error: 'use POST with a JSON body' })
  let body: Record<string, unknown>
  try {
    body = await readJson(request)
  } catch (error) {
    return send(response, 400, { error: (error as Error).message })
  }
  const memory = typeof body.memory === 'string' ? body.memory : ''
  const key = typeof body.key === 'string' ? body.key : ''
  if (!/^[A-Za-z0-9_.@-]{1,200}$/.test(memory) || key === '') {
    return send(response, 400, {
      error: 'give { memory, key, value } or { memory, key, delete: true }',
    })
  }
  if ((await accessOf(memory)) !== 'write') {
    return send(response, 403, { error: `the token has no write access to memory "${memory}"` })
  }
  if (body.delete !== true && !('value' in body))
    return send(response, 400, { error: 'give a value, or delete: true' })
  const room = await source.relay.openRoom(memory)
  try {
    const root = getRoot(room.doc)
    room.doc.transact(() => {
      if (body.delete === true) dictDelete(root, key)
      else dictSet(root, key, body.value as Json)
    })
    await room.whenPersisted()
  } finally {
    source.relay.releaseRoom(room)
  }
  send(response, 200, { ok: true })
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) throw new Error(`the body is larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('the body is not a JSON object')
  return parsed as Record<string, unknown>
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  response.end(JSON.stringify(body))
}
