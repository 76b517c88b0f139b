/**
 * Checks an untrusted Yjs update against a live document before it is applied.
 *
 * `Y.applyUpdate` on hostile bytes can throw midway, park "pending" structs that stall
 * the document, or move a client's clock to 2^40. So the update is decoded first and
 * every struct and delete range is checked against what the document already has.
 */
import { ErrorCode, ROOT_NAME } from '@remem/client/protocol'
import * as Y from 'yjs'

export interface UpdateLimits {
  /** Largest update accepted, in bytes. */
  maxUpdateBytes: number
  /** Largest advance of one client's clock in one update. */
  maxClockAdvance: number
}

export type UpdateVerdict = { ok: true } | { ok: false; code: ErrorCode; reason: string }

const refuse = (code: ErrorCode, reason: string): UpdateVerdict => ({ ok: false, code, reason })

function isAllowedContent(content: unknown): boolean {
  if (content instanceof Y.ContentAny || content instanceof Y.ContentDeleted) return true
  if (content instanceof Y.ContentType) {
    return content.type instanceof Y.Array || content.type instanceof Y.Map
  }
  return false
}

/** Decides whether `update` may be applied to `doc`; never throws. */
export function validateUpdate(doc: Y.Doc, update: Uint8Array, limits: UpdateLimits): UpdateVerdict {
  if (update.byteLength > limits.maxUpdateBytes) {
    return refuse(
      ErrorCode.updateTooLarge,
      `update of ${update.byteLength} bytes exceeds maxUpdateBytes (${limits.maxUpdateBytes})`,
    )
  }
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    decoded = Y.decodeUpdate(update)
  } catch (error) {
    return refuse(ErrorCode.malformedUpdate, `update does not decode: ${(error as Error).message}`)
  }
  const known = Y.decodeStateVector(Y.encodeStateVector(doc))
  // End clock per client once this update is applied (what later references may point at).
  const ends = new Map<number, number>()
  const next = new Map<number, number>()
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id
    if (!Number.isSafeInteger(client) || !Number.isSafeInteger(clock) || struct.length < 1) {
      return refuse(ErrorCode.malformedUpdate, 'struct with an invalid id or length')
    }
    if (struct instanceof Y.Skip) {
      return refuse(ErrorCode.missingDependencies, `update skips clocks of client ${client}`)
    }
    const expected = next.get(client) ?? known.get(client) ?? 0
    if (next.has(client) ? clock !== expected : clock > expected) {
      return refuse(
        ErrorCode.missingDependencies,
        `update starts client ${client} at clock ${clock}; the relay has up to ${expected}`,
      )
    }
    const end = clock + struct.length
    if (end - (known.get(client) ?? 0) > limits.maxClockAdvance) {
      return refuse(
        ErrorCode.hostileClock,
        `update advances client ${client} by ${end - (known.get(client) ?? 0)} (maxClockAdvance ${limits.maxClockAdvance})`,
      )
    }
    next.set(client, end)
    ends.set(client, Math.max(end, known.get(client) ?? 0))
  }
  const reaches = (id: Y.ID | null): boolean =>
    id === null || id.clock < (ends.get(id.client) ?? known.get(id.client) ?? 0)
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    if (!isAllowedContent(struct.content)) {
      return refuse(
        ErrorCode.unsupportedContent,
        `update carries ${struct.content.constructor.name}; remem documents hold JSON only`,
      )
    }
    const parent = struct.parent as unknown
    if (typeof parent === 'string' && parent !== ROOT_NAME) {
      return refuse(ErrorCode.unsupportedContent, `update writes root type "${parent}"`)
    }
    if (parent instanceof Y.ID && !reaches(parent)) {
      return refuse(ErrorCode.missingDependencies, 'update refers to an unknown parent')
    }
    if (!reaches(struct.origin) || !reaches(struct.rightOrigin)) {
      return refuse(ErrorCode.missingDependencies, 'update refers to unknown neighbours')
    }
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const end = ends.get(client) ?? known.get(client) ?? 0
    for (const range of ranges) {
      if (range.len < 1 || range.clock + range.len > end) {
        return refuse(
          ErrorCode.missingDependencies,
          `update deletes clocks ${range.clock}..${range.clock + range.len} of client ${client}, which the relay does not have`,
        )
      }
    }
  }
  return { ok: true }
}

/** True when the document holds structs or deletes it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}
