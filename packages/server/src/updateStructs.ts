/**
 * What the update checks share: the structs of a decoded update, where an item lands, the
 * refusal they throw, and lookups of ids in the document and in the update.
 */
import type { ErrorCode } from '@remem/client/protocol'
import * as Y from 'yjs'

export type Struct = Y.Item | Y.GC

/** The update's structs by client, each contiguous (see `validateUpdate`). */
export type Sections = Map<number, Struct[]>

/** The document's root type, which may not exist in the document yet. */
export const ROOT = Symbol('root')
/** A type an item lands in: one in the document, the root, or one this update creates. */
export type Parent = Y.AbstractType<unknown> | typeof ROOT | Y.Item
/** Where an integrated item sits; `null` when Yjs turns it into a GC struct. */
export type Placement = { parent: Parent; sub: string | null } | null

/** Thrown by the checks; `validateUpdate` turns it into a verdict. */
export class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    reason: string,
  ) {
    super(reason)
  }
}

export const refuse = (code: ErrorCode, reason: string): never => {
  throw new Refusal(code, reason)
}

/** Whether the document already has `id`. */
export function inDoc(doc: Y.Doc, id: Y.ID): boolean {
  return id.clock < Y.getState(doc.store, id.client)
}

/** The document's struct holding `id` (which it must have). */
export function docStruct(doc: Y.Doc, id: Y.ID): Struct {
  const structs = doc.store.clients.get(id.client)!
  return structs[Y.findIndexSS(structs, id.clock)]!
}

/** The update's struct holding `id`; throws when there is none. */
export function updateStruct(sections: Sections, id: Y.ID): Struct {
  const structs = sections.get(id.client)
  let low = 0
  let high = (structs?.length ?? 0) - 1
  while (low <= high) {
    const mid = (low + high) >>> 1
    const struct = structs![mid]!
    if (id.clock < struct.id.clock) high = mid - 1
    else if (id.clock >= struct.id.clock + struct.length) low = mid + 1
    else return struct
  }
  throw new Error(`no struct holds ${id.client}:${id.clock}`)
}

export function samePlace(a: Placement, b: Placement): boolean {
  return a !== null && b !== null && a.parent === b.parent && a.sub === b.sub
}

export function sameId(a: Y.ID | null, b: Y.ID | null): boolean {
  return a === b || (a !== null && b !== null && a.client === b.client && a.clock === b.clock)
}

/** Whether `struct` holds `id`. */
export function holds(struct: Struct, id: Y.ID): boolean {
  return (
    id.client === struct.id.client &&
    id.clock >= struct.id.clock &&
    id.clock < struct.id.clock + struct.length
  )
}
