/**
 * Whether each item an update inserts lands in the same place on every replica.
 *
 * YATA (Yjs's list algorithm) places an item after its origin and scans right until its
 * right origin, ordering concurrent inserts on the way. That gives one order everywhere only
 * when the two origins were neighbours for the item's author: in one list, the right one
 * right of the left one, and nothing the author had between them. Honest peers always send
 * such items; a crafted one lands wherever the items a replica happens to hold put it, and
 * replicas stop converging. Items are checked on the document where nothing else of the
 * update can lie between their origins, and otherwise on a copy with the update applied.
 */
import { ErrorCode, ROOT_NAME } from '@remem/client/protocol'
import * as Y from 'yjs'
import {
  type Parent,
  type Placement,
  ROOT,
  type Sections,
  type Struct,
  docStruct,
  holds,
  inDoc,
  refuse,
  sameId,
  updateStruct,
} from './updateStructs.ts'

/** Structs the checks of one update may visit; past it they are skipped. */
const STEP_BUDGET = 100_000
/** Items of one update in one list that `apart` compares; past it, a trial decides. */
const MAX_APART = 32
/** Clients whose clocks `authorHad` tracks per author. */
const MAX_KNOWN_CLIENTS = 256
const MISPLACED = 'update places an item where its own author could not have put it'

/** An integrated item and what its check needs. */
interface NeighbourCheck {
  item: Y.Item
  /** Its first clock Yjs integrates. */
  first: Y.ID
  /** The origin Yjs uses: for a struct the document partly had, the item at the previous clock. */
  origin: Y.ID | null
  right: Y.ID | null
  placement: NonNullable<Placement>
  /** Clocks its author provably had. */
  had: Map<number, number>
  /** Its place in the replay's integration order. */
  index: number
}

export class ListOrder {
  /** Integration order of the update's items. */
  private readonly order = new Map<Struct, number>()
  /** The update's items placed in each list (per parent, per map key or `null`), latest last. */
  private readonly placedIn = new Map<Parent, Map<string | null, NeighbourCheck[]>>()
  private readonly checks = new Map<Y.Item, NeighbourCheck>()
  private readonly positions = new Map<Y.Item, number>()
  /** Checks left for `confirm`. */
  private readonly unproven: NeighbourCheck[] = []
  private steps = 0
  /** Per client in the update: clocks its author provably had, as of its latest struct. */
  private readonly had = new Map<number, Map<number, number>>()
  private readonly hadAt = new Map<Struct, Map<number, number>>()

  constructor(
    private readonly doc: Y.Doc,
    private readonly update: Uint8Array,
    private readonly sections: Sections,
  ) {}

  /**
   * Takes the next item Yjs integrates, in Yjs's order, with the origin it integrates with
   * (for a struct the document partly had: the item at the clock before the new part).
   */
  add(item: Y.Item, offset: number, origin: Y.ID | null, placement: NonNullable<Placement>): void {
    this.checkItem({
      item,
      first: Y.createID(item.id.client, item.id.clock + offset),
      origin,
      right: item.rightOrigin,
      placement,
      had: this.authorHad(item, offset),
      index: this.order.size,
    })
    this.order.set(item, this.order.size)
  }

  /**
   * YATA places an item after its origin and scans right until its right origin. That is
   * only the same everywhere when the two were neighbours for the item's author: the right
   * origin lies right of the origin, and nothing the author had lies between them. What the
   * author had is known in part (see `authorHad`). The first item an update puts in a
   * document list is checked on the document; any further one, or one next to an item of
   * this update, on a copy with the update applied (`confirm`).
   */
  private checkItem(check: NeighbourCheck): void {
    const { parent, sub } = check.placement
    let lists = this.placedIn.get(parent)
    if (!lists) this.placedIn.set(parent, (lists = new Map()))
    let placed = lists.get(sub)
    if (!placed) lists.set(sub, (placed = []))
    const previous = placed.at(-1)
    const { origin, right } = check
    const onDoc = !(parent instanceof Y.Item) && this.onDoc(origin) && this.onDoc(right)
    const alone =
      onDoc && placed.length <= MAX_APART && placed.every((other) => this.apart(other, check))
    placed.push(check)
    this.checks.set(check.item, check)
    if (previous && this.extends(previous, check)) return
    if (parent instanceof Y.Item) {
      // A list this update creates starts empty.
      if (!previous && origin === null && right === null) return
    } else if (alone) {
      // Nothing of this update lies between its origins: the document alone decides.
      return this.checkOnDoc(check)
    }
    this.unproven.push(check)
  }

  /**
   * Whether `other` (placed earlier in the same document list) surely lies outside the
   * span between `check`'s origins, judged by the document items that bound each.
   */
  private apart(other: NeighbourCheck, check: NeighbourCheck): boolean {
    const [low, high] = this.bounds(other)
    return high <= this.key(check.origin, -Infinity) || low >= this.key(check.right, Infinity)
  }

  /** Keys of the document items an update item surely lies between (list ends: ±Infinity). */
  private bounds({ origin, right }: NeighbourCheck): [number, number] {
    let low = origin
    while (low && !inDoc(this.doc, low))
      low = this.checks.get(updateStruct(this.sections, low) as Y.Item)?.origin ?? null
    let high = right
    while (high && !inDoc(this.doc, high))
      high = this.checks.get(updateStruct(this.sections, high) as Y.Item)?.right ?? null
    return [this.key(low, -Infinity), this.key(high, Infinity)]
  }

  /** Order key of a document id in its list: struct position, then clock within it. */
  private key(id: Y.ID | null, end: number): number {
    if (id === null) return end
    const struct = docStruct(this.doc, id) as Y.Item
    return this.position(struct) + (id.clock - struct.id.clock) / struct.length
  }

  /**
   * Whether `check`'s item was written by the author of `previous` (the update's item placed
   * last in the same list) right after or right before it, knowing nothing new about other
   * clients. Then nothing can be between its origins that was not between `previous`'s.
   */
  private extends(previous: NeighbourCheck, { item, origin, right, had }: NeighbourCheck): boolean {
    const last = previous.item
    if (last.id.client !== item.id.client) return false
    const lastId = Y.createID(last.id.client, last.id.clock + last.length - 1)
    const after = sameId(origin, lastId) && sameId(right, previous.right)
    const before = sameId(origin, previous.origin) && sameId(right, previous.first)
    if (!after && !before) return false
    for (const [client, clock] of had) {
      if (client !== item.id.client && !knew(previous.had, client, clock)) return false
    }
    return true
  }

  private onDoc(id: Y.ID | null): boolean {
    return id === null || inDoc(this.doc, id)
  }

  private checkOnDoc({ origin, right, placement, had }: NeighbourCheck): void {
    const first = origin ? (docStruct(this.doc, origin) as Y.Item) : null
    const last = right ? (docStruct(this.doc, right) as Y.Item) : null
    if (first && first === last) {
      if (origin!.clock >= right!.clock) refuse(ErrorCode.malformedUpdate, MISPLACED)
      if (right!.clock > origin!.clock + 1 && knew(had, origin!.client, origin!.clock + 1))
        refuse(ErrorCode.malformedUpdate, MISPLACED)
      return
    }
    if (
      first &&
      origin!.clock < first.id.clock + first.length - 1 &&
      knew(had, origin!.client, origin!.clock + 1)
    ) {
      refuse(ErrorCode.malformedUpdate, MISPLACED)
    }
    let next: Y.Item | null
    if (first) next = first.right
    else {
      next = last ?? this.listItem(placement)
      while (next?.left) next = next.left
    }
    for (; next !== null && next !== last; next = next.right) {
      if (++this.steps > STEP_BUDGET) {
        // Too far to walk: settle the order at least, from positions.
        if (first && last && this.position(last) < this.position(first))
          refuse(ErrorCode.malformedUpdate, MISPLACED)
        return
      }
      if (knew(had, next.id.client, next.id.clock)) refuse(ErrorCode.malformedUpdate, MISPLACED)
    }
    if (last && next === null) refuse(ErrorCode.malformedUpdate, MISPLACED)
    if (last && right!.clock > last.id.clock && knew(had, last.id.client, last.id.clock)) {
      refuse(ErrorCode.malformedUpdate, MISPLACED)
    }
  }

  /**
   * The neighbour checks `run` could not settle on the document: apply the update to a copy
   * and walk from each item to its origins, skipping what this update placed after it.
   * Costs a copy of the document; honest updates need it when they insert several items
   * into one list. Call once every item is added.
   */
  confirm(): void {
    if (this.unproven.length === 0) return
    // A fixed guid: a copy that lives for one check needs no random one (uuidv4 costs more
    // than copying a small document).
    const copy = new Y.Doc({ gc: false, guid: 'remem-list-order' })
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(this.doc))
    Y.applyUpdate(copy, this.update)
    for (const check of this.unproven) this.walkCopy(copy, check)
  }

  private walkCopy(copy: Y.Doc, { first, origin, right, had, index }: NeighbourCheck): void {
    const item = Y.getItem(copy.store, first)
    // Whether `y` (from `from` on) was between the item's origins when it was integrated.
    const between = (y: Y.Item, from: number): boolean => {
      const id = Y.createID(y.id.client, from)
      if (!inDoc(this.doc, id)) {
        const struct = updateStruct(this.sections, id)
        if ((this.order.get(struct) ?? Infinity) >= index) return false
      }
      return knew(had, y.id.client, from)
    }
    if (item.id.clock < first.clock) {
      // Merged with what its author wrote just before: that is left of it.
      const start = origin && holds(item, origin) ? origin.clock + 1 : item.id.clock
      if (start < first.clock && between(item, start)) refuse(ErrorCode.malformedUpdate, MISPLACED)
    }
    if (!origin || !holds(item, origin)) {
      let next = item.left
      for (; next !== null && !(origin && holds(next, origin)); next = next.left) {
        if (++this.steps > STEP_BUDGET) return
        if (between(next, next.id.clock)) refuse(ErrorCode.malformedUpdate, MISPLACED)
      }
      if (origin && next === null) refuse(ErrorCode.malformedUpdate, MISPLACED)
      if (
        next &&
        origin!.clock < next.id.clock + next.length - 1 &&
        between(next, origin!.clock + 1)
      ) {
        refuse(ErrorCode.malformedUpdate, MISPLACED)
      }
    }
    let next = item.right
    for (; next !== null && !(right && holds(next, right)); next = next.right) {
      if (++this.steps > STEP_BUDGET) return
      if (between(next, next.id.clock)) refuse(ErrorCode.malformedUpdate, MISPLACED)
    }
    if (right && next === null) refuse(ErrorCode.malformedUpdate, MISPLACED)
    if (next && right!.clock > next.id.clock && between(next, next.id.clock))
      refuse(ErrorCode.malformedUpdate, MISPLACED)
  }

  /**
   * Clocks the author of `item` provably had, per client: what it refers to, what those
   * refer to, and (carried along each client's structs in this update) what its own earlier
   * structs referred to.
   */
  private authorHad(item: Y.Item, offset: number): Map<number, number> {
    const carried = this.had.get(item.id.client)
    // Knowing less only checks less; a bound keeps hostile updates from making this quadratic.
    if (carried && carried.size >= MAX_KNOWN_CLIENTS) {
      this.hadAt.set(item, carried)
      return carried
    }
    const seen = new Map(carried)
    const previous = item.id.clock + offset - 1
    this.seeWithNeighbours(seen, item.origin)
    this.seeWithNeighbours(seen, item.rightOrigin)
    if (item.parent instanceof Y.ID) this.seeWithNeighbours(seen, item.parent)
    if (previous >= 0) this.seeWithNeighbours(seen, Y.createID(item.id.client, previous))
    this.had.set(item.id.client, seen)
    this.hadAt.set(item, seen)
    return seen
  }

  /** Adds `ref` to `seen`, and what its struct refers to (what its author had). */
  private seeWithNeighbours(seen: Map<number, number>, ref: Y.ID | null): void {
    if (!ref) return
    see(seen, ref)
    if (inDoc(this.doc, ref)) {
      const neighbour = docStruct(this.doc, ref)
      if (neighbour instanceof Y.Item) {
        see(seen, neighbour.origin)
        see(seen, neighbour.rightOrigin)
        see(seen, (neighbour.parent as Y.AbstractType<unknown> | null)?._item?.id ?? null)
      }
    } else {
      const had = this.hadAt.get(updateStruct(this.sections, ref))
      if (had) for (const [client, clock] of had) see(seen, Y.createID(client, clock))
    }
  }

  /** Some item of the document's list an item lands in, or null when it is empty or new. */
  private listItem({ parent, sub }: NonNullable<Placement>): Y.Item | null {
    const type =
      parent === ROOT ? this.doc.share.get(ROOT_NAME) : parent instanceof Y.Item ? null : parent
    if (!type) return null
    return sub === null ? type._start : (type._map.get(sub) ?? null)
  }

  /** Index of an item in its list, counting every struct (numbered once per list). */
  private position(item: Y.Item): number {
    const known = this.positions.get(item)
    if (known !== undefined) return known
    let start = item
    while (start.left !== null) start = start.left
    let index = 0
    for (let next: Y.Item | null = start; next !== null; next = next.right)
      this.positions.set(next, index++)
    return this.positions.get(item)!
  }
}

/** Records in `seen` (clocks per client) that `id` was had. */
function see(seen: Map<number, number>, id: Y.ID | null): void {
  if (id && (seen.get(id.client) ?? -1) < id.clock) seen.set(id.client, id.clock)
}

/** Whether `had` (clocks per client) covers `client` at `clock`. */
function knew(had: Map<number, number>, client: number, clock: number): boolean {
  return clock <= (had.get(client) ?? -1)
}
