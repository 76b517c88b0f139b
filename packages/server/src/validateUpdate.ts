/**
 * Checks an untrusted Yjs update against a live document before it is applied.
 *
 * `Y.applyUpdate` trusts its input. On hostile bytes it throws halfway through (keeping what
 * it integrated so far), parks "pending" structs that stall the document, moves a client's
 * clock to 2^40, or links an item into one list while counting it in another. So the update
 * is decoded first and its integration is rehearsed against the document, following Yjs's
 * own algorithm (`readClientsStructRefs` and `integrateStructs` in yjs/src/utils/encoding.js)
 * step by step, without touching the document. Only an update whose rehearsal succeeds is
 * applied.
 */
import { ErrorCode, ROOT_NAME } from '@remem/client/protocol'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

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

export type UpdateVerdict = { ok: true } | { ok: false; code: ErrorCode; reason: string }

type Struct = Y.Item | Y.GC

/** The document's root type, which may not exist in the document yet. */
const ROOT = Symbol('root')
/** A type an item lands in: in the document, the root, or one this update creates. */
type Parent = Y.AbstractType<unknown> | typeof ROOT | Y.Item
/** Where an integrated item sits; `null` when Yjs turns it into a GC struct. */
type Placement = { parent: Parent; sub: string | null } | null

class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    reason: string,
  ) {
    super(reason)
  }
}

const refuse = (code: ErrorCode, reason: string): never => {
  throw new Refusal(code, reason)
}

const DEFAULT_MAX_TYPE_DEPTH = 1024

/** Decides whether `update` may be applied to `doc`; never throws, never changes `doc`. */
export function validateUpdate(doc: Y.Doc, update: Uint8Array, limits: UpdateLimits): UpdateVerdict {
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
      return { ok: false, code: ErrorCode.malformedUpdate, reason: `update does not decode: ${String(error)}` }
    }
    const sections = readSections(doc, update, decoded.structs, limits)
    for (const struct of decoded.structs) checkContent(struct as Struct)
    const rehearsal = new Rehearsal(doc, sections, limits.maxTypeDepth ?? DEFAULT_MAX_TYPE_DEPTH)
    rehearsal.run()
    checkDeletes(decoded.ds, (client) => rehearsal.clock(client))
    return { ok: true }
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, reason: error.message }
    // Anything else is a bug here or in Yjs on odd input; refuse rather than risk it.
    return { ok: false, code: ErrorCode.malformedUpdate, reason: `update cannot be checked: ${String(error)}` }
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
    if (struct instanceof Y.Skip) refuse(ErrorCode.missingDependencies, `update skips clocks of client ${client}`)
    const known = Y.getState(doc.store, client)
    if (current === null || current[0]!.id.client !== client) {
      if (sections.has(client)) refuse(ErrorCode.malformedUpdate, `update lists client ${client} twice`)
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
    refuse(ErrorCode.malformedUpdate, `update lists ${listed} clients but carries structs of ${sections.size}`)
  }
  return sections
}

function checkContent(struct: Struct): void {
  if (!(struct instanceof Y.Item)) return
  const content = struct.content
  const allowed =
    content instanceof Y.ContentDeleted ||
    (content instanceof Y.ContentAny && content.arr.every(isJson)) ||
    (content instanceof Y.ContentType && (content.type instanceof Y.Array || content.type instanceof Y.Map))
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
    refuse(ErrorCode.unsupportedContent, `update writes root type "${parent.slice(0, 100)}"; remem uses "${ROOT_NAME}" only`)
  }
  const refs = [struct.origin, struct.rightOrigin, parent instanceof Y.ID ? parent : null]
  for (const ref of refs) {
    // Yjs assumes a client's own references point backwards; others make it throw midway.
    if (ref && ref.client === struct.id.client && ref.clock >= struct.id.clock) {
      refuse(ErrorCode.missingDependencies, `update refers to a later clock of client ${ref.client}`)
    }
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

/**
 * Replays `integrateStructs` on ids and clocks: the same order, the same dependency test,
 * the same place each item lands. Whatever would park pending structs, throw, or link an
 * item into a list other than its parent is refused.
 */
class Rehearsal {
  /** Clock per client as integration proceeds. */
  private readonly state = new Map<number, number>()
  private readonly placements = new Map<Struct, Placement>()
  private readonly depths = new Map<Parent, number>([[ROOT, 0]])

  constructor(
    private readonly doc: Y.Doc,
    private readonly sections: Map<number, Struct[]>,
    private readonly maxTypeDepth: number,
  ) {}

  run(): void {
    const cursors = new Map([...this.sections].map(([client, structs]) => [client, { structs, i: 0 }]))
    const order = [...cursors.keys()].sort((a, b) => a - b)
    const nextTarget = (): { structs: Struct[]; i: number } | null => {
      for (;;) {
        const target = order.length > 0 ? cursors.get(order[order.length - 1]!)! : null
        if (target === null || target.i < target.structs.length) return target
        order.pop()
      }
    }
    let target = nextTarget()
    if (target === null) return
    let head = target.structs[target.i++]!
    const stack: Struct[] = []
    for (;;) {
      const offset = this.clock(head.id.client) - head.id.clock
      if (offset < 0) {
        refuse(ErrorCode.missingDependencies, `update depends on clocks of client ${head.id.client} it does not carry`)
      }
      const missing = this.missingClient(head)
      if (missing !== null) {
        stack.push(head)
        const refs = cursors.get(missing)
        if (!refs || refs.i === refs.structs.length) {
          refuse(ErrorCode.missingDependencies, `update refers to items of client ${missing} the relay does not have`)
        }
        head = refs!.structs[refs!.i++]!
        continue
      }
      if (offset < head.length) {
        this.place(head, offset)
        this.state.set(head.id.client, head.id.clock + head.length)
      }
      if (stack.length > 0) {
        head = stack.pop()!
      } else if (target !== null && target.i < target.structs.length) {
        head = target.structs[target.i++]!
      } else {
        target = nextTarget()
        if (target === null) return
        head = target.structs[target.i++]!
      }
    }
  }

  /** A client's clock at this point of the rehearsal (after it: once the update is in). */
  clock(client: number): number {
    return this.state.get(client) ?? Y.getState(this.doc.store, client)
  }

  /** `Item.getMissing`'s first half: a client whose items this one needs first. */
  private missingClient(struct: Struct): number | null {
    if (!(struct instanceof Y.Item)) return null
    const parent = struct.parent instanceof Y.ID ? struct.parent : null
    for (const ref of [struct.origin, struct.rightOrigin, parent]) {
      if (ref && ref.client !== struct.id.client && ref.clock >= this.clock(ref.client)) return ref.client
    }
    return null
  }

  /** `Item.getMissing`'s second half and `Item.integrate`: where the struct lands. */
  private place(struct: Struct, offset: number): void {
    if (!(struct instanceof Y.Item)) {
      this.placements.set(struct, null)
      return
    }
    const left = struct.origin ? this.placementAt(struct.origin) : undefined
    const right = struct.rightOrigin ? this.placementAt(struct.rightOrigin) : undefined
    let placement: Placement
    if (left === null || right === null) placement = null
    else if (left) placement = left
    else if (right) placement = right
    else if (typeof struct.parent === 'string') placement = { parent: ROOT, sub: struct.parentSub }
    else {
      const parent = this.typeAt(struct.parent as Y.ID)
      placement = parent && { parent, sub: struct.parentSub }
    }
    this.placements.set(struct, placement)
    if (placement === null) return
    const kind = this.kindOf(placement.parent)
    if (kind === 'other') refuse(ErrorCode.unsupportedContent, 'update writes into a type that is neither Y.Array nor Y.Map')
    if (kind === 'array' && placement.sub !== null) {
      refuse(ErrorCode.unsupportedContent, 'update sets a map key on a Y.Array')
    }
    if (kind === 'map' && placement.sub === null) {
      refuse(ErrorCode.unsupportedContent, 'update inserts a list item into a Y.Map')
    }
    if (struct.content instanceof Y.ContentType) {
      const depth = this.depthOf(placement.parent) + 1
      if (depth > this.maxTypeDepth) {
        refuse(ErrorCode.unsupportedContent, `update nests types deeper than ${this.maxTypeDepth} levels`)
      }
      this.depths.set(struct, depth)
    }
    if (offset > 0) {
      // Yjs integrates the new part after the item at the previous clock, keeping the parent
      // found above: both must agree or the parent's list and length fall apart.
      const before = this.docStruct(Y.createID(struct.id.client, struct.id.clock + offset - 1))
      const same =
        before instanceof Y.Item &&
        this.normalize(before.parent as Y.AbstractType<unknown>) === placement.parent &&
        before.parentSub === placement.sub
      if (!same) {
        refuse(ErrorCode.malformedUpdate, `update continues client ${struct.id.client} in another place than it left off`)
      }
    }
  }

  /** Where the struct holding `id` sits, once integrated; `null` for GC structs. */
  private placementAt(id: Y.ID): Placement {
    const known = Y.getState(this.doc.store, id.client)
    if (id.clock < known) {
      const struct = this.docStruct(id)
      return struct instanceof Y.Item ? { parent: this.normalize(struct.parent as Y.AbstractType<unknown>), sub: struct.parentSub } : null
    }
    const placement = this.placements.get(this.updateStruct(id))
    if (placement === undefined) throw new Error(`rehearsal reached ${id.client}:${id.clock} before placing it`)
    return placement
  }

  /** What Yjs makes the parent of an item whose parent is given by id; `null`: it becomes GC. */
  private typeAt(id: Y.ID): Parent | null {
    if (id.clock < Y.getState(this.doc.store, id.client)) {
      const struct = this.docStruct(id)
      return struct instanceof Y.Item && struct.content instanceof Y.ContentType
        ? this.normalize(struct.content.type as Y.AbstractType<unknown>)
        : null
    }
    const struct = this.updateStruct(id)
    return struct instanceof Y.Item && struct.content instanceof Y.ContentType && this.placements.get(struct)
      ? struct
      : null
  }

  private docStruct(id: Y.ID): Struct {
    const structs = this.doc.store.clients.get(id.client)!
    return structs[Y.findIndexSS(structs, id.clock)]!
  }

  private updateStruct(id: Y.ID): Struct {
    const structs = this.sections.get(id.client)!
    let low = 0
    let high = structs.length - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const struct = structs[mid]!
      if (id.clock < struct.id.clock) high = mid - 1
      else if (id.clock >= struct.id.clock + struct.length) low = mid + 1
      else return struct
    }
    throw new Error(`no struct holds ${id.client}:${id.clock}`)
  }

  private normalize(type: Y.AbstractType<unknown>): Parent {
    return type._item === null && this.doc.share.get(ROOT_NAME) === type ? ROOT : type
  }

  private kindOf(parent: Parent): 'array' | 'map' | 'other' {
    if (parent === ROOT) return 'array'
    const type = parent instanceof Y.Item ? (parent.content as Y.ContentType).type : parent
    // Root types other than `root` are never written to.
    if (!(parent instanceof Y.Item) && type._item === null) return 'other'
    if (type instanceof Y.Array) return 'array'
    return type instanceof Y.Map ? 'map' : 'other'
  }

  private depthOf(parent: Parent): number {
    const chain: Y.AbstractType<unknown>[] = []
    let current: Parent = parent
    let depth = this.depths.get(current)
    while (depth === undefined) {
      const type = current as Y.AbstractType<unknown>
      if (type._item === null) {
        // A root type: `root` itself is mapped to ROOT; others hold nothing remem wrote.
        depth = 0
        break
      }
      chain.push(type)
      current = this.normalize(type._item.parent as Y.AbstractType<unknown>)
      depth = this.depths.get(current)
    }
    for (const type of chain.reverse()) this.depths.set(type, ++depth)
    return depth
  }
}

/** Every deleted range must lie within clocks the document has once the update is in. */
function checkDeletes(ds: Y.DeleteSet, clock: (client: number) => number): void {
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
