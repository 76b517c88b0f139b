/**
 * validateUpdate on its own: every update an honest Yjs peer sends is accepted, every
 * crafted one that would throw inside Yjs, park pending structs, corrupt the document or
 * make replicas diverge is refused with its documented code, and seeded fuzzing (random
 * bytes, mutated honest updates, updates built struct by struct) finds no update that is
 * accepted and then misbehaves.
 */
import { ErrorCode } from '@remem/client/protocol'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type UpdateLimits, hasPending, validateUpdate } from '../validateUpdate.ts'

const limits: UpdateLimits = { maxUpdateBytes: 1024 * 1024, maxClockAdvance: 10_000_000 }

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** JSON with object keys sorted, so documents compare regardless of map insertion order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )

const json = (doc: Y.Doc): string => canonical(doc.getArray('root').toJSON())

/** Applies `update` as a peer with its own client id would send it. */
function peer(
  client: number,
  base: Y.Doc,
  edit: (root: Y.Array<unknown>, doc: Y.Doc) => void,
): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const before = Y.encodeStateVector(doc)
  doc.transact(() => edit(doc.getArray('root'), doc))
  return Y.encodeStateAsUpdate(doc, before)
}

/** A document shaped like a remem memory, written by clients 1, 2 and 3, with deletions. */
function baseDoc(): Y.Doc {
  const doc = new Y.Doc()
  const apply = (update: Uint8Array): void => Y.applyUpdate(doc, update)
  apply(
    peer(1, doc, (root) => {
      root.push([
        { k: 'a', v: 1 },
        { k: 'b', v: 2 },
      ])
      const wrapper = new Y.Map<unknown>()
      const list = new Y.Array<unknown>()
      root.push([wrapper])
      wrapper.set('k', 'list')
      wrapper.set('t', 'l')
      wrapper.set('v', list)
      list.push([1, 2, 3])
    }),
  )
  apply(
    peer(2, doc, (root) => {
      root.delete(0, 1)
      root.insert(1, [{ k: 'c', v: 3 }])
      ;((root.get(2) as Y.Map<unknown>).get('v') as Y.Array<unknown>).insert(1, ['x', 'y'])
    }),
  )
  apply(
    peer(3, doc, (root) => {
      const wrapper = new Y.Map<unknown>()
      root.push([wrapper])
      wrapper.set('k', 'gone')
      wrapper.set('t', 'd')
      wrapper.set('v', new Y.Array())
    }),
  )
  apply(peer(4, doc, (root) => root.delete(root.length - 1, 1)))
  return doc
}

// ---- crafting updates struct by struct (Yjs update format v1) ----

type Content =
  | { any: unknown[] }
  | { deleted: number }
  | { type: number; key?: string }
  | { string: string }
  | { binary: Uint8Array }
  | { format: [string, unknown] }
  | { doc: string }
  | { raw: number; write: (encoder: Y.UpdateEncoderV1) => void; length?: number }

type StructSpec =
  | { gc: number }
  | { skip: number }
  | { origin?: Y.ID; right?: Y.ID; parent?: string | Y.ID; sub?: string; content: Content }

interface Section {
  client: number
  clock: number
  structs: StructSpec[]
}

function writeContent(encoder: Y.UpdateEncoderV1, content: Content): void {
  if ('any' in content) {
    encoder.writeLen(content.any.length)
    for (const value of content.any) encoding.writeAny(encoder.restEncoder, value as never)
  } else if ('deleted' in content) encoder.writeLen(content.deleted)
  else if ('type' in content) {
    encoder.writeTypeRef(content.type)
    if (content.key !== undefined) encoder.writeKey(content.key)
  } else if ('string' in content) encoder.writeString(content.string)
  else if ('binary' in content) encoder.writeBuf(content.binary)
  else if ('format' in content) {
    encoder.writeKey(content.format[0])
    encoder.writeJSON(content.format[1])
  } else if ('doc' in content) {
    encoder.writeString(content.doc)
    encoding.writeAny(encoder.restEncoder, {})
  } else content.write(encoder)
}

const contentRef = (content: Content): number =>
  'any' in content
    ? 8
    : 'deleted' in content
      ? 1
      : 'type' in content
        ? 7
        : 'string' in content
          ? 4
          : 'binary' in content
            ? 3
            : 'format' in content
              ? 6
              : 'doc' in content
                ? 9
                : content.raw

/** Encodes sections and deletions as a v1 update; `header` overrides the section count. */
function craft(
  sections: Section[],
  deletes: Array<[number, number, number]> = [],
  header?: number,
): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  encoding.writeVarUint(encoder.restEncoder, header ?? sections.length)
  for (const section of sections) {
    encoding.writeVarUint(encoder.restEncoder, section.structs.length)
    encoder.writeClient(section.client)
    encoding.writeVarUint(encoder.restEncoder, section.clock)
    for (const struct of section.structs) {
      if ('gc' in struct) {
        encoder.writeInfo(0)
        encoder.writeLen(struct.gc)
      } else if ('skip' in struct) {
        encoder.writeInfo(10)
        encoding.writeVarUint(encoder.restEncoder, struct.skip)
      } else {
        const { origin, right, parent, sub, content } = struct
        const ownParent = !origin && !right
        encoder.writeInfo(
          contentRef(content) |
            (origin ? 128 : 0) |
            (right ? 64 : 0) |
            (ownParent && sub !== undefined ? 32 : 0),
        )
        if (origin) encoder.writeLeftID(origin)
        if (right) encoder.writeRightID(right)
        if (ownParent) {
          const to = parent ?? 'root'
          encoder.writeParentInfo(typeof to === 'string')
          if (typeof to === 'string') encoder.writeString(to)
          else encoder.writeLeftID(to)
          if (sub !== undefined) encoder.writeString(sub)
        }
        writeContent(encoder, content)
      }
    }
  }
  const byClient = new Map<number, Array<[number, number]>>()
  for (const [client, clock, len] of deletes)
    byClient.set(client, [...(byClient.get(client) ?? []), [clock, len]])
  encoding.writeVarUint(encoder.restEncoder, byClient.size)
  for (const [client, ranges] of byClient) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, ranges.length)
    for (const [clock, len] of ranges) {
      encoder.writeDsClock(clock)
      encoder.writeDsLen(len)
    }
  }
  return encoder.toUint8Array()
}

const id = (client: number, clock: number): Y.ID => Y.createID(client, clock)
const state = (doc: Y.Doc, client: number): number => Y.getState(doc.store, client)
/** The first item of the root list, and the item after it, as ids. */
function rootIds(doc: Y.Doc): Y.ID[] {
  const ids: Y.ID[] = []
  for (let item = doc.getArray('root')._start; item !== null; item = item.right) ids.push(item.id)
  return ids
}

/**
 * Whether a document's linked lists agree with their parents: every item of a list points
 * to it, lengths add up, and every value of a map key but the last is deleted.
 */
function structureProblem(doc: Y.Doc): string | null {
  const types = [...doc.share.values()] as Array<Y.AbstractType<unknown>>
  while (types.length > 0) {
    const type = types.pop()!
    let length = 0
    for (let item = type._start; item !== null; item = item.right) {
      if (item.parent !== type || item.parentSub !== null)
        return 'a list holds an item of another parent'
      if (item.right && item.right.left !== item) return 'broken links'
      if (item.countable && !item.deleted) length += item.length
      if (item.content instanceof Y.ContentType)
        types.push(item.content.type as Y.AbstractType<unknown>)
    }
    if (length !== type._length) return `a list counts ${type._length} items but holds ${length}`
    for (const [key, last] of type._map) {
      for (let item: Y.Item | null = last; item !== null; item = item.left) {
        if (item.parent !== type || item.parentSub !== key)
          return 'a map key holds an item of another parent'
        if (item !== last && !item.deleted) return 'a map key holds two live values'
        if (item.content instanceof Y.ContentType)
          types.push(item.content.type as Y.AbstractType<unknown>)
      }
    }
  }
  return null
}

describe('validateUpdate accepts what honest peers send', () => {
  it('accepts updates of a live edit session, offline reconnects and tabs that merge first', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = prng(seed)
      const int = (n: number): number => Math.floor(random() * n)
      const relay = new Y.Doc()
      const peers = Array.from({ length: 4 }, (_, i) => {
        const doc = new Y.Doc()
        doc.clientID = 1000 + seed * 10 + i
        return { doc, online: true, inbox: [] as Uint8Array[] }
      })
      const send = (update: Uint8Array): void => {
        const verdict = validateUpdate(relay, update, limits)
        // `ends` is what Y.parseUpdateMeta says: where each client's structs end.
        expect(verdict).toEqual({ ok: true, ends: Y.parseUpdateMeta(update).to })
        Y.applyUpdate(relay, update)
        expect(hasPending(relay)).toBe(false)
      }
      relay.on('update', (update: Uint8Array) => {
        for (const p of peers) if (p.online) p.inbox.push(update)
      })
      const [tab0, tab1] = [peers[0]!, peers[1]!]
      for (const p of peers) {
        p.doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin === 'relay') return
          // Two tabs of one browser share changes while offline (as over BroadcastChannel).
          if ((p === tab0 || p === tab1) && !p.online && origin !== 'tab') {
            Y.applyUpdate((p === tab0 ? tab1 : tab0).doc, update, 'tab')
          }
          if (p.online && origin !== 'tab') send(update)
        })
      }
      const reconnect = (p: (typeof peers)[number]): void => {
        p.online = true
        Y.applyUpdate(p.doc, Y.encodeStateAsUpdate(relay, Y.encodeStateVector(p.doc)), 'relay')
      }
      const wrapper = (depth: number): Y.Map<unknown> => {
        const map = new Y.Map<unknown>()
        const list = new Y.Array<unknown>()
        map.set('k', `k${int(5)}`)
        map.set('t', 'l')
        map.set('v', list)
        for (let i = int(3); i > 0; i--)
          list.push([depth > 0 && random() < 0.3 ? wrapper(depth - 1) : { k: 'x', v: int(9) }])
        return map
      }
      for (let step = 0; step < 120; step++) {
        const p = peers[int(peers.length)]!
        const roll = random()
        if (roll < 0.06) {
          const group = p === tab0 || p === tab1 ? [tab0, tab1] : [p]
          if (p.online) for (const g of group) g.online = false
          else {
            for (const g of group) reconnect(g)
            for (const g of group) send(Y.encodeStateAsUpdate(g.doc, Y.encodeStateVector(relay)))
          }
        } else if (roll < 0.35) {
          for (const update of p.inbox.splice(0, int(p.inbox.length + 1)))
            Y.applyUpdate(p.doc, update, 'relay')
        } else {
          p.doc.transact(() => {
            let list = p.doc.getArray<unknown>('root')
            while (random() < 0.4) {
              const nested = list.toArray().filter((v): v is Y.Map<unknown> => v instanceof Y.Map)
              if (nested.length === 0) break
              list = nested[int(nested.length)]!.get('v') as Y.Array<unknown>
            }
            const op = random()
            if (op < 0.3) list.insert(int(list.length + 1), [{ k: `k${int(5)}`, v: int(100) }])
            else if (op < 0.45 && list.length > 0) list.delete(int(list.length), 1)
            else if (op < 0.6) list.insert(int(list.length + 1), [wrapper(2)])
            else if (op < 0.75) list.insert(int(list.length + 1), [wrapper(1), 'a', wrapper(0)])
            else for (let i = 0; i < 3; i++) list.insert(int(list.length + 1), [int(50)])
          })
        }
      }
      for (const p of peers) {
        if (!p.online) {
          reconnect(p)
          send(Y.encodeStateAsUpdate(p.doc, Y.encodeStateVector(relay)))
        }
      }
      const fresh = new Y.Doc()
      Y.applyUpdate(fresh, Y.encodeStateAsUpdate(relay))
      for (const p of peers) {
        Y.applyUpdate(p.doc, Y.encodeStateAsUpdate(relay, Y.encodeStateVector(p.doc)), 'relay')
        expect(json(p.doc)).toBe(json(relay))
      }
      expect(json(fresh)).toBe(json(relay))
      expect(structureProblem(relay)).toBeNull()
    }
  })

  it('accepts an empty update, a duplicate and an update that overlaps what the relay has', () => {
    const doc = baseDoc()
    expect(validateUpdate(doc, new Uint8Array([0, 0]), limits)).toMatchObject({ ok: true })
    const writer = new Y.Doc()
    writer.clientID = 50
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
    const before = Y.encodeStateVector(writer)
    writer.getArray('root').push(['p', 'q'])
    const first = Y.encodeStateAsUpdate(writer, before)
    writer.getArray('root').push(['r'])
    const both = Y.encodeStateAsUpdate(writer, before)
    Y.applyUpdate(doc, first)
    expect(validateUpdate(doc, first, limits)).toMatchObject({ ok: true })
    expect(validateUpdate(doc, both, limits)).toMatchObject({ ok: true })
    Y.applyUpdate(doc, both)
    expect(doc.getArray('root').toJSON().slice(-3)).toEqual(['p', 'q', 'r'])
  })
})

interface Case {
  name: string
  code: ErrorCode
  update: (doc: Y.Doc) => Uint8Array
  /** What Yjs alone makes of it, where that is deterministic. */
  harm?: 'throws' | 'pending' | 'corrupts' | 'junk'
  limits?: Partial<UpdateLimits>
}

const cases: Case[] = [
  {
    name: 'an update larger than maxUpdateBytes',
    code: ErrorCode.updateTooLarge,
    limits: { maxUpdateBytes: 100 },
    update: (doc) => peer(60, doc, (root) => root.push(['x'.repeat(200)])),
  },
  {
    name: 'bytes that do not decode',
    code: ErrorCode.malformedUpdate,
    update: () => new Uint8Array([1, 1, 5, 0, 8]),
  },
  {
    name: 'a struct at clock 2^40 for a new client',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: () => craft([{ client: 70, clock: 2 ** 40, structs: [{ content: { any: [1] } }] }]),
  },
  {
    name: 'a later update of a client without the earlier one',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: (doc) => {
      const writer = new Y.Doc()
      writer.clientID = 71
      Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
      writer.getArray('root').push([{ k: 'one', v: 1 }])
      const after = Y.encodeStateVector(writer)
      writer.getArray('root').push([{ k: 'two', v: 2 }])
      return Y.encodeStateAsUpdate(writer, after)
    },
  },
  {
    name: 'a GC struct of length 2^40 at clock 0',
    code: ErrorCode.hostileClock,
    update: () => craft([{ client: 72, clock: 0, structs: [{ gc: 2 ** 40 }] }]),
  },
  {
    name: 'ContentDeleted of length 2^40',
    code: ErrorCode.hostileClock,
    update: () => craft([{ client: 73, clock: 0, structs: [{ content: { deleted: 2 ** 40 } }] }]),
  },
  {
    name: 'an item next to an item the relay does not have',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: (doc) => {
      const other = new Y.Doc()
      other.clientID = 74
      Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
      other.getArray('root').push(['unseen'])
      return peer(75, other, (root) => root.push(['after it']))
    },
  },
  {
    name: 'deleting a range of a client the relay does not know',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: () => craft([], [[76, 0, 5]]),
  },
  {
    name: 'deleting past the end of a known client',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: (doc) => craft([], [[1, 0, state(doc, 1) + 1]]),
  },
  {
    name: 'a Skip struct',
    code: ErrorCode.missingDependencies,
    update: () =>
      craft([{ client: 77, clock: 0, structs: [{ content: { any: [1] } }, { skip: 3 }] }]),
  },
  {
    name: 'Y.Text content',
    code: ErrorCode.unsupportedContent,
    harm: 'junk',
    update: (doc) => peer(78, doc, (root) => root.push([new Y.Text('hello')])),
  },
  {
    name: 'a string struct (text inside a list)',
    code: ErrorCode.unsupportedContent,
    update: () => craft([{ client: 79, clock: 0, structs: [{ content: { string: 'abc' } }] }]),
  },
  {
    name: 'an XML element',
    code: ErrorCode.unsupportedContent,
    update: (doc) => peer(80, doc, (root) => root.push([new Y.XmlElement('div')])),
  },
  {
    name: 'a subdocument',
    code: ErrorCode.unsupportedContent,
    update: (doc) => peer(81, doc, (root) => root.push([new Y.Doc()])),
  },
  {
    name: 'a format',
    code: ErrorCode.unsupportedContent,
    update: () =>
      craft([{ client: 82, clock: 0, structs: [{ content: { format: ['bold', true] } }] }]),
  },
  {
    name: 'binary content',
    code: ErrorCode.unsupportedContent,
    update: (doc) => peer(83, doc, (root) => root.push([new Uint8Array([1, 2, 3])])),
  },
  {
    name: 'a root type other than root',
    code: ErrorCode.unsupportedContent,
    harm: 'junk',
    update: (doc) => peer(84, doc, (_root, d) => d.getMap('other').set('k', 1)),
  },
  ...(
    [
      ['undefined', (e: Y.UpdateEncoderV1) => encoding.writeUint8(e.restEncoder, 127)],
      ['a bigint', (e: Y.UpdateEncoderV1) => encoding.writeAny(e.restEncoder, 5n as never)],
      ['NaN', (e: Y.UpdateEncoderV1) => encoding.writeAny(e.restEncoder, NaN)],
      [
        'bytes inside a value',
        (e: Y.UpdateEncoderV1) =>
          encoding.writeAny(e.restEncoder, { k: 'a', v: new Uint8Array(2) }),
      ],
      [
        'an object with a __proto__ key, which the relay would read but not re-encode',
        (e: Y.UpdateEncoderV1) => {
          encoding.writeUint8(e.restEncoder, 118)
          encoding.writeVarUint(e.restEncoder, 1)
          encoding.writeVarString(e.restEncoder, '__proto__')
          encoding.writeAny(e.restEncoder, { k: 'evil', v: 1 })
        },
      ],
    ] as const
  ).map(([what, write]): Case => ({
    name: `a value that is not JSON: ${what}`,
    code: ErrorCode.unsupportedContent,
    update: () =>
      craft([
        {
          client: 85,
          clock: 0,
          structs: [{ content: { raw: 8, write: (e) => (e.writeLen(1), write(e)) } }],
        },
      ]),
  })),
  {
    name: 'a client listed in two sections (Yjs keeps only the second)',
    code: ErrorCode.malformedUpdate,
    harm: 'pending',
    update: () =>
      craft([
        { client: 86, clock: 0, structs: [{ content: { any: ['a'] } }] },
        { client: 86, clock: 1, structs: [{ origin: id(86, 0), content: { any: ['b'] } }] },
      ]),
  },
  {
    name: 'a section count that does not match the sections',
    code: ErrorCode.malformedUpdate,
    update: () => craft([{ client: 87, clock: 0, structs: [{ content: { any: ['a'] } }] }], [], 2),
  },
  {
    name: 'two clients whose items depend on each other',
    code: ErrorCode.missingDependencies,
    harm: 'pending',
    update: () =>
      craft([
        { client: 88, clock: 0, structs: [{ origin: id(89, 0), content: { any: ['a'] } }] },
        { client: 89, clock: 0, structs: [{ origin: id(88, 0), content: { any: ['b'] } }] },
      ]),
  },
  {
    name: 'an item whose origin is a later clock of its own client',
    code: ErrorCode.missingDependencies,
    harm: 'throws',
    update: (doc) =>
      craft([
        {
          client: 90,
          clock: 0,
          structs: [
            { origin: rootIds(doc)[1]!, content: { any: ['a'] } },
            { origin: id(90, 2), content: { any: ['b'] } },
            { origin: rootIds(doc)[1]!, content: { any: ['c'] } },
          ],
        },
      ]),
  },
  {
    name: 'a map key on the root list',
    code: ErrorCode.unsupportedContent,
    harm: 'junk',
    update: () =>
      craft([{ client: 91, clock: 0, structs: [{ sub: 'key', content: { any: [1] } }] }]),
  },
  {
    name: 'a list item inside a Y.Map',
    code: ErrorCode.unsupportedContent,
    harm: 'junk',
    update: (doc) => {
      const wrapper = doc
        .getArray('root')
        .toArray()
        .find((v) => v instanceof Y.Map) as Y.Map<unknown>
      return craft([
        { client: 92, clock: 0, structs: [{ parent: wrapper._item!.id, content: { any: [1] } }] },
      ])
    },
  },
  {
    name: 'several live values on one map key',
    code: ErrorCode.unsupportedContent,
    update: (doc) => {
      const wrapper = doc
        .getArray('root')
        .toArray()
        .find((v) => v instanceof Y.Map) as Y.Map<unknown>
      return craft([
        {
          client: 93,
          clock: 0,
          structs: [{ parent: wrapper._item!.id, sub: 't', content: { any: ['l', 'd'] } }],
        },
      ])
    },
  },
  {
    name: 'types nested deeper than maxTypeDepth',
    code: ErrorCode.unsupportedContent,
    limits: { maxTypeDepth: 20 },
    update: (doc) =>
      peer(94, doc, (root) => {
        let list = root
        for (let i = 0; i < 15; i++) {
          const map = new Y.Map<unknown>()
          const inner = new Y.Array<unknown>()
          list.push([map])
          map.set('t', 'l')
          map.set('v', inner)
          list = inner
        }
      }),
  },
  {
    name: 'an item between origins in two different lists',
    code: ErrorCode.malformedUpdate,
    update: (doc) => {
      const nested = (
        doc
          .getArray('root')
          .toArray()
          .find((v) => v instanceof Y.Map) as Y.Map<unknown>
      ).get('v') as Y.Array<unknown>
      return craft([
        {
          client: 95,
          clock: 0,
          structs: [
            { origin: rootIds(doc)[1]!, right: nested._start!.id, content: { any: ['x'] } },
          ],
        },
      ])
    },
  },
  {
    name: 'an item whose right origin lies left of its origin',
    code: ErrorCode.malformedUpdate,
    update: (doc) => {
      const ids = rootIds(doc)
      return craft([
        {
          client: 96,
          clock: 0,
          structs: [{ origin: ids[3]!, right: ids[1]!, content: { any: ['x'] } }],
        },
      ])
    },
  },
  {
    name: 'an item whose origins were not neighbours for its author',
    code: ErrorCode.malformedUpdate,
    update: (doc) => {
      const ids = rootIds(doc)
      // The author names ids[3] as right origin, so it had everything of that client
      // before it, ids[2] included, which lies between the two origins.
      const right = ids.find(
        (i, n) =>
          n > 1 &&
          i.client === ids[1]!.client &&
          ids.slice(1, n).some((j) => j.client === i.client),
      )!
      return craft([
        { client: 97, clock: 0, structs: [{ origin: ids[0]!, right, content: { any: ['x'] } }] },
      ])
    },
  },
  {
    name: 'a struct the relay partly has that continues in another list',
    code: ErrorCode.malformedUpdate,
    harm: 'corrupts',
    update: (doc) => {
      const nested = (
        doc
          .getArray('root')
          .toArray()
          .find((v) => v instanceof Y.Map) as Y.Map<unknown>
      ).get('v') as Y.Array<unknown>
      const own = peer(98, doc, (root) => root.push([{ k: 'own', v: 1 }]))
      Y.applyUpdate(doc, own)
      return craft([
        {
          client: 98,
          clock: 0,
          structs: [{ origin: nested._start!.id, content: { any: ['known', 'new'] } }],
        },
      ])
    },
  },
]

describe('validateUpdate refuses crafted updates', () => {
  it.each(cases)('$name', ({ code, update, harm, limits: overrides }) => {
    const doc = baseDoc()
    const bytes = update(doc)
    const before = Y.encodeStateAsUpdate(doc)
    const verdict = validateUpdate(doc, bytes, { ...limits, ...overrides })
    expect(verdict.ok).toBe(false)
    if (!verdict.ok)
      expect({ code: verdict.code, reason: typeof verdict.reason }).toEqual({
        code,
        reason: 'string',
      })
    // It never touches the document.
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    if (harm) expect(whatYjsMakesOf(doc, bytes)).toBe(harm)
  })
})

/** Applies `update` to a copy of `doc` without checks and says what went wrong. */
function whatYjsMakesOf(doc: Y.Doc, update: Uint8Array): Case['harm'] | 'fine' {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const effective: Uint8Array[] = [Y.encodeStateAsUpdate(copy)]
  copy.on('update', (u: Uint8Array) => effective.push(u))
  const shares = copy.share.size
  try {
    Y.applyUpdate(copy, update)
  } catch {
    return 'throws'
  }
  if (hasPending(copy)) return 'pending'
  if (structureProblem(copy) !== null) return 'corrupts'
  let junk = copy.share.size > shares
  const types = [...copy.share.values()] as Array<Y.AbstractType<unknown>>
  while (types.length > 0) {
    const type = types.pop()!
    if (
      type instanceof Y.Array
        ? type._map.size > 0
        : type instanceof Y.Map
          ? type._start !== null
          : true
    )
      junk = true
    for (let item = type._start; item !== null; item = item.right) {
      if (item.content instanceof Y.ContentType)
        types.push(item.content.type as Y.AbstractType<unknown>)
    }
  }
  return junk ? 'junk' : 'fine'
}

/** Every distinct result of applying `updates` after `base` in every order. */
function outcomes(base: Uint8Array, updates: Uint8Array[]): Set<string> {
  const orders = (xs: Uint8Array[]): Uint8Array[][] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) =>
          orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
        )
  const results = new Set<string>()
  for (const order of orders(updates)) {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, base)
    for (const update of order) Y.applyUpdate(doc, update)
    results.add(json(doc))
  }
  return results
}

describe('validateUpdate keeps replicas converging', () => {
  // The list a b c d, one item per push by client 1.
  const list = new Y.Doc()
  list.clientID = 1
  for (const value of ['a', 'b', 'c', 'd']) list.getArray('root').push([value])
  const base = Y.encodeStateAsUpdate(list)
  const [a, b, c] = [0, 1, 2].map((clock) => id(1, clock))
  const item = (
    client: number,
    origin: Y.ID | undefined,
    right: Y.ID | undefined,
    value: string,
  ): Uint8Array =>
    craft([
      {
        client,
        clock: 0,
        structs: [
          { ...(origin && { origin }), ...(right && { right }), content: { any: [value] } },
        ],
      },
    ])
  const verdicts = (updates: Uint8Array[]): boolean[] => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, base)
    return updates.map((update) => validateUpdate(doc, update, limits).ok)
  }

  it('refuses an item whose right origin lies left of its origin; Yjs would place it by arrival order', () => {
    // X claims to go between c and b; Y and Z went into the list from an empty view.
    const updates = [
      item(9, c, b, 'X'),
      item(3, undefined, undefined, 'Y'),
      item(6, undefined, undefined, 'Z'),
    ]
    expect(outcomes(base, updates).size).toBeGreaterThan(1)
    expect(verdicts(updates)).toEqual([false, true, true])
    expect(outcomes(base, updates.slice(1)).size).toBe(1)
  })

  it('refuses an item whose origins were not neighbours for its author; Yjs would place it by arrival order', () => {
    // X claims to go first, right before b, but whoever knew b knew a, which is before it.
    const updates = [
      item(9, undefined, b, 'X'),
      item(3, undefined, undefined, 'Y'),
      item(6, a, undefined, 'Z'),
    ]
    expect(outcomes(base, updates).size).toBeGreaterThan(1)
    expect(verdicts(updates)).toEqual([false, true, true])
    expect(outcomes(base, updates.slice(1)).size).toBe(1)
  })

  it('refuses several live values on one map key; Yjs would keep one alive next to a newer one', () => {
    const doc = baseDoc()
    const wrapper = doc
      .getArray('root')
      .toArray()
      .find((v) => v instanceof Y.Map) as Y.Map<unknown>
    const several = craft([
      {
        client: 93,
        clock: 0,
        structs: [{ parent: wrapper._item!.id, sub: 't', content: { any: ['l', 'd'] } }],
      },
    ])
    expect(validateUpdate(doc, several, limits)).toMatchObject({
      ok: false,
      code: ErrorCode.unsupportedContent,
    })
    Y.applyUpdate(doc, several)
    Y.applyUpdate(
      doc,
      craft([{ client: 94, clock: 0, structs: [{ origin: id(93, 0), content: { any: ['x'] } }] }]),
    )
    expect(structureProblem(doc)).toBe('a map key holds two live values')
  })
})

describe('validateUpdate under seeded fuzzing', () => {
  /** Random updates built struct by struct, near what the document has. */
  function randomUpdate(random: () => number, doc: Y.Doc): Uint8Array {
    const int = (n: number): number => Math.floor(random() * n)
    const pool = [1, 2, 3, 4, 50, 51]
    const someId = (): Y.ID => {
      const client = pool[int(pool.length)]!
      return id(client, int(state(doc, client) + (random() < 0.8 ? 0 : 4)))
    }
    const sections: Section[] = []
    for (let n = 1 + int(3); n > 0; n--) {
      const client = pool[int(pool.length)]!
      if (sections.some((s) => s.client === client) && random() < 0.9) continue
      const structs: StructSpec[] = []
      for (let i = 1 + int(4); i > 0; i--) {
        const roll = random()
        if (roll < 0.1) structs.push({ gc: 1 + int(3) })
        else if (roll < 0.11) structs.push({ skip: 1 + int(3) })
        else {
          const origin = random() < 0.5 ? someId() : undefined
          const right = random() < 0.3 ? someId() : undefined
          const kind = int(6)
          const content: Content =
            random() < 0.02
              ? { string: 'txt' }
              : kind < 3
                ? {
                    any: Array.from(
                      { length: 1 + int(2) },
                      () => [{ k: 'q', v: int(9) }, 'l', 5, null][int(4)],
                    ),
                  }
                : kind === 3
                  ? { deleted: 1 + int(3) }
                  : { type: int(2) }
          const parent = random() < 0.5 ? (random() < 0.95 ? 'root' : 'other') : someId()
          const sub = !origin && !right && random() < 0.25 ? ['k', 't', 'v'][int(3)]! : undefined
          structs.push({
            ...(origin && { origin }),
            ...(right && { right }),
            ...(!origin && !right && { parent }),
            ...(sub !== undefined && { sub }),
            content,
          })
        }
      }
      sections.push({
        client,
        clock: Math.max(0, state(doc, client) - (random() < 0.7 ? 0 : int(3))),
        structs,
      })
    }
    const deletes: Array<[number, number, number]> = []
    for (let n = int(3); n > 0; n--) {
      const client = pool[int(pool.length)]!
      deletes.push([client, int(state(doc, client) + 3), 1 + int(3)])
    }
    return craft(sections, deletes, random() < 0.03 ? sections.length + 1 : undefined)
  }

  /** Random bytes, or an honest update with a few bytes flipped, inserted, dropped or cut. */
  function mutatedUpdate(random: () => number, doc: Y.Doc): Uint8Array {
    const int = (n: number): number => Math.floor(random() * n)
    if (random() < 0.3) return Uint8Array.from({ length: int(40) }, () => int(256))
    const bytes = [
      ...peer(100 + int(3), doc, (root) =>
        root.insert(int(root.length + 1), [{ k: 'm', v: int(9) }, 'z']),
      ),
    ]
    for (let n = 1 + int(3); n > 0; n--) {
      const at = int(bytes.length)
      const roll = random()
      if (roll < 0.5) bytes[at] = int(256)
      else if (roll < 0.7) bytes.splice(at, 0, int(256))
      else if (roll < 0.85) bytes.splice(at, 1)
      else bytes.length = at
    }
    return Uint8Array.from(bytes)
  }

  it.each([
    ['updates built struct by struct', randomUpdate, 300],
    ['random bytes and mutated honest updates', mutatedUpdate, 150],
  ] as const)(
    '%s: whatever is accepted applies cleanly and converges',
    (_name, generate, seeds) => {
      let accepted = 0
      for (let seed = 1; seed <= seeds; seed++) {
        const random = prng(seed)
        const doc = baseDoc()
        const effective: Uint8Array[] = [Y.encodeStateAsUpdate(doc)]
        doc.on('update', (u: Uint8Array) => effective.push(u))
        for (let step = 0; step < 40; step++) {
          const update = generate(random, doc)
          const verdict = validateUpdate(doc, update, { ...limits, maxClockAdvance: 1000 })
          if (!verdict.ok) {
            expect(Object.values(ErrorCode)).toContain(verdict.code)
            continue
          }
          accepted++
          const context = `seed ${seed} step ${step}: ${Array.from(update).join(',')}`
          expect(() => Y.applyUpdate(doc, update), context).not.toThrow()
          expect(hasPending(doc), context).toBe(false)
          expect(structureProblem(doc), context).toBeNull()
        }
        // Every replica converges, whatever order it receives the relay's updates in.
        const fresh = new Y.Doc()
        Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc))
        const shuffledOrder = new Y.Doc()
        const shuffle = prng(seed * 7919)
        for (const u of [...effective].sort(() => shuffle() - 0.5)) Y.applyUpdate(shuffledOrder, u)
        expect(json(fresh), `seed ${seed}`).toBe(json(doc))
        expect(json(shuffledOrder), `seed ${seed}`).toBe(json(doc))
      }
      expect(accepted).toBeGreaterThan(20)
    },
  )
})
