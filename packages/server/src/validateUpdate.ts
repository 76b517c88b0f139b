/**
 * Checks an untrusted Yjs update against a live document before it is applied.
 *
 * `Y.applyUpdate` trusts its input. On hostile bytes it throws halfway through (keeping what
 * it integrated so far), parks "pending" structs that stall the document, moves a client's
 * clock to 2^40, links an item into one list while counting it in another, or places items
 * differently on every replica. So the update is decoded, its sizes, clocks and contents are
 * checked, and its integration is rehearsed against the document (`UpdateRehearsal`)
 * without touching it. Only an update that passes everything is applied.
 */
import { ErrorCode, ROOT_NAME } from '@remem/client/protocol'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { UpdateRehearsal } from './UpdateRehearsal.ts'
import { Refusal, type Struct, refuse } from './updateStructs.ts'

export interface UpdateLimits {
  /** Largest update accepted, in bytes. */
  maxUpdateBytes: number
  /** Largest advance of one client's clock in one update. */
  maxClockAdvance: number
  /**
   * Deepest nesting of Yjs types. A nested dict or list costs two (its `Y.Map` wrapper and
   * its `Y.Array`); the client library cannot build more than about 700, and recursive
   * readers overflow their stack at a few thousand.
   * @default 1024
   */
  maxTypeDepth?: number
}

/**
 * `ends`: for each Yjs client the update writes, the clock just past its last struct (what
 * `Y.parseUpdateMeta(update).to` says), so that callers need not decode the update again.
 */
export type UpdateVerdict =
  | { ok: true; ends: Map<number, number> }
  | { ok: false; code: ErrorCode; reason: string }

const DEFAULT_MAX_TYPE_DEPTH = 1024

/** Decides whether `update` may be applied to `doc`; never throws, never changes `doc`. */
export function validateUpdate(
  doc: Y.Doc,
  update: Uint8Array,
  limits: UpdateLimits,
): UpdateVerdict {
  try {
    if (update.byteLength > limits.maxUpdateBytes) {
      refuse(
        ErrorCode.updateTooLarge,
        `update of ${update.byteLength} bytes exceeds maxUpdateBytes (${limits.maxUpdateBytes})`,
      )
    }
    let decoded: ReturnType<typeof Y.decodeUpdate>
    try {
      decoded = Y.decodeUpdate(update)
    } catch (error) {
      return {
        ok: false,
        code: ErrorCode.malformedUpdate,
        reason: `update does not decode: ${String(error)}`,
      }
    }
    const sections = readSections(doc, update, decoded.structs, limits)
    for (const struct of decoded.structs) checkContent(struct as Struct)
    const rehearsal = new UpdateRehearsal(
      doc,
      update,
      sections,
      limits.maxTypeDepth ?? DEFAULT_MAX_TYPE_DEPTH,
    )
    rehearsal.run()
    checkDeletes(decoded.ds, (client) => rehearsal.clock(client))
    rehearsal.confirmOrder()
    const ends = new Map<number, number>()
    for (const [client, structs] of sections) {
      const last = structs[structs.length - 1]!
      ends.set(client, last.id.clock + last.length)
    }
    return { ok: true, ends }
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, reason: error.message }
    // Anything else is a bug here or in Yjs on odd input; refuse rather than risk it.
    return {
      ok: false,
      code: ErrorCode.malformedUpdate,
      reason: `update cannot be checked: ${String(error)}`,
    }
  }
}

/** True when the document holds structs or deletes it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/**
 * Groups the structs by client, checking ids, lengths and clocks. Yjs keeps one section per
 * client when applying (a second one replaces the first) while decoding yields both, so an
 * update must list each client once.
 */
function readSections(
  doc: Y.Doc,
  update: Uint8Array,
  structs: ReadonlyArray<Y.Item | Y.GC | Y.Skip>,
  limits: UpdateLimits,
): Map<number, Struct[]> {
  const sections = new Map<number, Struct[]>()
  let current: Struct[] | null = null
  let next = 0
  for (const struct of structs) {
    const { client, clock } = struct.id
    if (!Number.isSafeInteger(client) || !Number.isSafeInteger(clock) || !(struct.length >= 1)) {
      refuse(ErrorCode.malformedUpdate, 'struct with an invalid id or length')
    }
    if (struct instanceof Y.Skip)
      refuse(ErrorCode.missingDependencies, `update skips clocks of client ${client}`)
    const known = Y.getState(doc.store, client)
    if (current === null || current[0]!.id.client !== client) {
      if (sections.has(client))
        refuse(ErrorCode.malformedUpdate, `update lists client ${client} twice`)
      if (clock > known) {
        refuse(
          ErrorCode.missingDependencies,
          `update starts client ${client} at clock ${clock}; the relay has up to ${known}`,
        )
      }
      current = []
      sections.set(client, current)
    } else if (clock !== next) {
      refuse(ErrorCode.malformedUpdate, `structs of client ${client} are not contiguous`)
    }
    next = clock + struct.length
    if (next - known > limits.maxClockAdvance) {
      refuse(
        ErrorCode.hostileClock,
        `update advances client ${client} by ${next - known} (maxClockAdvance ${limits.maxClockAdvance})`,
      )
    }
    current.push(struct as Struct)
  }
  // The header counts sections; one listed twice in a row, or an empty one, shows only here.
  const listed = decoding.readVarUint(decoding.createDecoder(update))
  if (listed !== sections.size) {
    refuse(
      ErrorCode.malformedUpdate,
      `update lists ${listed} clients but carries structs of ${sections.size}`,
    )
  }
  return sections
}

function checkContent(struct: Struct): void {
  if (!(struct instanceof Y.Item)) return
  const content = struct.content
  const allowed =
    content instanceof Y.ContentDeleted ||
    (content instanceof Y.ContentAny && content.arr.every(isJson)) ||
    (content instanceof Y.ContentType &&
      (content.type instanceof Y.Array || content.type instanceof Y.Map))
  if (!allowed) {
    refuse(
      ErrorCode.unsupportedContent,
      content instanceof Y.ContentAny
        ? 'update carries a value that is not JSON'
        : `update carries ${content.constructor.name}; remem documents hold JSON values, Y.Array and Y.Map only`,
    )
  }
  const parent = struct.parent as unknown
  if (typeof parent === 'string' && parent !== ROOT_NAME) {
    refuse(
      ErrorCode.unsupportedContent,
      `update writes root type "${parent.slice(0, 100)}"; remem uses "${ROOT_NAME}" only`,
    )
  }
  // Yjs assumes a client's own references point backwards; others make it throw midway.
  pointsBack(struct, struct.origin)
  pointsBack(struct, struct.rightOrigin)
  if (parent instanceof Y.ID) pointsBack(struct, parent)
}

function pointsBack(struct: Y.Item, ref: Y.ID | null): void {
  if (ref && ref.client === struct.id.client && ref.clock >= struct.id.clock) {
    refuse(ErrorCode.missingDependencies, `update refers to a later clock of client ${ref.client}`)
  }
}

/**
 * JSON as `JSON.parse` returns it. lib0 also decodes `undefined`, bigints, binary and
 * non-finite numbers, and turns a `__proto__` key into the object's prototype, which the
 * relay would read but never re-encode.
 */
function isJson(value: unknown): boolean {
  const stack = [value]
  while (stack.length > 0) {
    const item = stack.pop()
    if (item === null || typeof item === 'string' || typeof item === 'boolean') continue
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return false
    } else if (Array.isArray(item)) {
      for (const element of item as unknown[]) stack.push(element)
    } else if (typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      for (const key of Object.keys(item)) stack.push((item as Record<string, unknown>)[key])
    } else {
      return false
    }
  }
  return true
}

/** Every deleted range must lie within clocks the document has once the update is in. */
function checkDeletes(
  ds: ReturnType<typeof Y.decodeUpdate>['ds'],
  clock: (client: number) => number,
): void {
  for (const [client, ranges] of ds.clients) {
    const end = clock(client)
    for (const range of ranges) {
      if (!(range.len >= 1) || range.clock + range.len > end) {
        refuse(
          ErrorCode.missingDependencies,
          `update deletes clocks ${range.clock}..${range.clock + range.len} of client ${client}, which the relay does not have`,
        )
      }
    }
  }
}
