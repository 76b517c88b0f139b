/**
 * Replays how Yjs would integrate a decoded update into a document, without touching it.
 *
 * `Y.applyUpdate` trusts its input. The replay follows `integrateStructs` (yjs/src/utils/
 * encoding.js) step by step: the same order, the same dependency test, the same place each
 * item lands. It refuses what Yjs would park as pending, what would make it throw halfway
 * (keeping what it integrated so far), what would link an item into one list while counting
 * it in another, map keys on lists and list items in maps, and nesting past a limit; and it
 * hands every item to `ListOrder`, which refuses items replicas would place differently.
 */
import { ErrorCode, ROOT_NAME } from '@remem/client/protocol'
import * as Y from 'yjs'
import { ListOrder } from './ListOrder.ts'
import {
  type Parent,
  type Placement,
  ROOT,
  type Sections,
  type Struct,
  docStruct,
  inDoc,
  refuse,
  samePlace,
  updateStruct,
} from './updateStructs.ts'

/** The next struct of one client's section to integrate. */
interface Cursor {
  structs: Struct[]
  i: number
}

/** The cursor of the highest client with structs left, dropping finished ones from `order`. */
function nextTarget(cursors: Map<number, Cursor>, order: number[]): Cursor | null {
  for (;;) {
    const target = order.length > 0 ? cursors.get(order[order.length - 1]!)! : null
    if (target === null || target.i < target.structs.length) return target
    order.pop()
  }
}

export class UpdateRehearsal {
  /** Clock per client as integration proceeds. */
  private readonly state = new Map<number, number>()
  private readonly placements = new Map<Struct, Placement>()
  private readonly depths = new Map<Parent, number>([[ROOT, 0]])
  private readonly listOrder: ListOrder

  constructor(
    private readonly doc: Y.Doc,
    update: Uint8Array,
    private readonly sections: Sections,
    private readonly maxTypeDepth: number,
  ) {
    this.listOrder = new ListOrder(doc, update, sections)
  }

  /** Runs the replay; throws a {@link Refusal} at the first problem. */
  run(): void {
    if (this.sections.size === 1) {
      // One client (the common small update): Yjs integrates its structs in order, and a
      // struct needing another client's items can only be refused (the update has none).
      for (const structs of this.sections.values()) for (const struct of structs) this.integrate(struct)
      return
    }
    const cursors = new Map<number, Cursor>()
    for (const [client, structs] of this.sections) cursors.set(client, { structs, i: 0 })
    // Yjs takes clients in descending order and follows dependencies with a stack.
    const order = [...cursors.keys()].sort((a, b) => a - b)
    let target = nextTarget(cursors, order)
    if (target === null) return
    let head = target.structs[target.i++]!
    const stack: Struct[] = []
    for (;;) {
      const missing = this.integrate(head, cursors)
      if (missing !== null) {
        stack.push(head)
        const refs = cursors.get(missing)!
        head = refs.structs[refs.i++]!
        continue
      }
      if (stack.length > 0) {
        head = stack.pop()!
      } else if (target !== null && target.i < target.structs.length) {
        head = target.structs[target.i++]!
      } else {
        target = nextTarget(cursors, order)
        if (target === null) break
        head = target.structs[target.i++]!
      }
    }
  }

  /**
   * Integrates `head` if it can be: returns the client whose next struct must come first
   * (one the update still carries), or null once `head` is done.
   */
  private integrate(head: Struct, cursors?: Map<number, Cursor>): number | null {
    const offset = this.clock(head.id.client) - head.id.clock
    if (offset < 0) {
      refuse(
        ErrorCode.missingDependencies,
        `update depends on clocks of client ${head.id.client} it does not carry`,
      )
    }
    const missing = this.missingClient(head)
    if (missing !== null) {
      const refs = cursors?.get(missing)
      if (!refs || refs.i === refs.structs.length) {
        refuse(
          ErrorCode.missingDependencies,
          `update refers to items of client ${missing} the relay does not have`,
        )
      }
      return missing
    }
    if (offset < head.length) {
      this.place(head, offset)
      this.state.set(head.id.client, head.id.clock + head.length)
    }
    return null
  }

  /** A client's clock at this point of the replay (after `run`: once the update is in). */
  clock(client: number): number {
    return this.state.get(client) ?? Y.getState(this.doc.store, client)
  }

  /** `Item.getMissing`'s first half: a client whose structs this one needs first. */
  private missingClient(struct: Struct): number | null {
    if (!(struct instanceof Y.Item)) return null
    const own = struct.id.client
    const { origin, rightOrigin, parent } = struct
    if (origin && origin.client !== own && origin.clock >= this.clock(origin.client)) return origin.client
    if (rightOrigin && rightOrigin.client !== own && rightOrigin.clock >= this.clock(rightOrigin.client))
      return rightOrigin.client
    if (parent instanceof Y.ID && parent.client !== own && parent.clock >= this.clock(parent.client))
      return parent.client
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
    if (kind === 'other')
      refuse(
        ErrorCode.unsupportedContent,
        'update writes into a type that is neither Y.Array nor Y.Map',
      )
    if (kind === 'array' && placement.sub !== null) {
      refuse(ErrorCode.unsupportedContent, 'update sets a map key on a Y.Array')
    }
    if (kind === 'map' && placement.sub === null) {
      refuse(ErrorCode.unsupportedContent, 'update inserts a list item into a Y.Map')
    }
    // A map key holds one value; Yjs deletes only the one value left of a new one, so a
    // live struct of several values would leave all but one undeleted (and GC throws).
    if (
      kind === 'map' &&
      struct.length - offset > 1 &&
      !(struct.content instanceof Y.ContentDeleted)
    ) {
      refuse(ErrorCode.unsupportedContent, 'update sets several values on one map key at once')
    }
    if (struct.content instanceof Y.ContentType) {
      const depth = this.depthOf(placement.parent) + 1
      if (depth > this.maxTypeDepth) {
        refuse(
          ErrorCode.unsupportedContent,
          `update nests types deeper than ${this.maxTypeDepth} levels`,
        )
      }
      this.depths.set(struct, depth)
    }
    let origin = struct.origin
    if (offset > 0) {
      // Yjs integrates the new part after the item at the previous clock, keeping the parent
      // found above: both must agree or the parent's list and length fall apart.
      origin = Y.createID(struct.id.client, struct.id.clock + offset - 1)
      const before = docStruct(this.doc, origin)
      if (!(before instanceof Y.Item) || !samePlace(this.placementOf(before), placement)) {
        refuse(
          ErrorCode.malformedUpdate,
          `update continues client ${struct.id.client} in another place than it left off`,
        )
      }
    }
    if (left && right && !samePlace(left, right)) {
      refuse(
        ErrorCode.malformedUpdate,
        'update places an item between neighbours in different lists',
      )
    }
    this.listOrder.add(struct, offset, origin, placement)
  }

  /** The order checks `run` left for a copy of the document (see `ListOrder`). Call after `run`. */
  confirmOrder(): void {
    this.listOrder.confirm()
  }

  /** Where the struct holding `id` sits, once integrated; `null` for GC structs. */
  private placementAt(id: Y.ID): Placement {
    if (inDoc(this.doc, id)) {
      const struct = docStruct(this.doc, id)
      return struct instanceof Y.Item ? this.placementOf(struct) : null
    }
    const placement = this.placements.get(updateStruct(this.sections, id))
    if (placement === undefined)
      throw new Error(`replay reached ${id.client}:${id.clock} before placing it`)
    return placement
  }

  private placementOf(item: Y.Item): Placement {
    return { parent: this.normalize(item.parent as Y.AbstractType<unknown>), sub: item.parentSub }
  }

  /** What Yjs makes the parent of an item whose parent is given by id; `null`: it becomes GC. */
  private typeAt(id: Y.ID): Parent | null {
    if (inDoc(this.doc, id)) {
      const struct = docStruct(this.doc, id)
      return struct instanceof Y.Item && struct.content instanceof Y.ContentType
        ? this.normalize(struct.content.type as Y.AbstractType<unknown>)
        : null
    }
    const struct = updateStruct(this.sections, id)
    return struct instanceof Y.Item &&
      struct.content instanceof Y.ContentType &&
      this.placements.get(struct)
      ? struct
      : null
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
