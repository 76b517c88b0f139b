/**
 * The exact checks after settling. What "reflected" means:
 *
 * - Client writers: each writer alone writes its keys of a memory, and one Yjs client makes
 *   its changes in order, so the final state of its keys must equal the model replayed over a
 *   prefix of its operations on that memory: at least every acknowledged one, plus any number
 *   of the unacknowledged ones that follow (those were in flight when it was killed).
 *   Anything else is reported: acknowledged operations whose effect is missing (a loss), or a
 *   state that no prefix explains.
 * - External writer: each ext_ key's final value (absent after a DEL) must be the last value
 *   Redis acknowledged; when the last command on it was uncertain, that value is accepted too.
 * - Copies: every copy equals the document decoded from Redis. Projection keys equal the
 *   top-level values. No copy has pending changes. No process died that the loop did not kill.
 */
import type { Json, JsonObject } from '@remem/client/protocol'
import type { ExternalEntry, WriterEntry } from './journal.ts'
import { type Model, type Op, applyOp, canonical, ownKeys } from './ops.ts'

/** A named copy of every memory (a client, a relay's fresh client, the Redis log). */
export interface Copy {
  name: string
  memories: Record<string, JsonObject>
  /** Unacknowledged local changes per memory (clients only). */
  pending?: Record<string, number>
}

/** Operations of one writer on one memory, in order, and how many were acknowledged. */
interface WriterMemoryOps {
  ops: Array<{ seq: number; op: Op }>
  ackedSeq: number
}

/** Counts of the client writers' journals. */
export interface WriterFigures {
  made: number
  acked: number
}

/** Groups a writer's journal by memory. */
export function byMemory(entries: WriterEntry[]): Map<string, WriterMemoryOps> {
  const memories = new Map<string, WriterMemoryOps>()
  const of = (mem: string): WriterMemoryOps => {
    let found = memories.get(mem)
    if (!found) memories.set(mem, (found = { ops: [], ackedSeq: 0 }))
    return found
  }
  for (const entry of entries) {
    if (entry.t === 'M') of(entry.mem).ops.push({ seq: entry.seq, op: entry.op })
    else if (entry.t === 'A') of(entry.mem).ackedSeq = Math.max(of(entry.mem).ackedSeq, entry.seq)
  }
  return memories
}

/** Operations made and acknowledged, over all writers and memories. */
export function writerFigures(journals: Map<string, WriterEntry[]>): WriterFigures {
  const figures = { made: 0, acked: 0 }
  for (const entries of journals.values()) {
    for (const { ops, ackedSeq } of byMemory(entries).values()) {
      figures.made += ops.length
      figures.acked += ops.filter((o) => o.seq <= ackedSeq).length
    }
  }
  return figures
}

/** How a writer's keys compare with the prefixes of its operations on one memory. */
export interface PrefixMatch {
  matched: boolean
  /** Acknowledged operations (a prefix of `ops`). */
  acked: number
  /** The state after the acknowledged prefix. */
  expected: Model
  /** Acknowledged ops whose value is missing from the state. */
  lost: string[]
}

/** Whether `actual` (a writer's keys) equals the model after a prefix of `ops` that covers every op up to `ackedSeq`. */
export function matchPrefix(ops: Array<{ seq: number; op: Op }>, ackedSeq: number, actual: Model): PrefixMatch {
  const acked = ops.filter((o) => o.seq <= ackedSeq).length
  const model: Model = {}
  for (const { op } of ops.slice(0, acked)) applyOp(model, op)
  const expected = structuredClone(model)
  let matched = canonical(model) === canonical(actual)
  for (let p = acked; !matched && p < ops.length; p++) {
    applyOp(model, ops[p]!.op)
    matched = canonical(model) === canonical(actual)
  }
  return { matched, acked, expected, lost: matched ? [] : lostOps(ops.slice(0, acked), expected, actual) }
}

/** Describes a failed {@link matchPrefix}. */
export function describeMismatch(id: string, mem: string, ackedSeq: number, total: number, match: PrefixMatch, actual: Model): string {
  const { lost, acked } = match
  return (
    `${id} on ${mem}: acknowledged through #${ackedSeq} (${acked} of ${total} ops), but the state matches no prefix ≥ ${acked}` +
    (lost.length > 0 ? `; acknowledged ops not reflected: ${lost.slice(0, 12).join('; ')}${lost.length > 12 ? ` … (${lost.length})` : ''}` : '') +
    `\n    expected (acked prefix): ${diffLine(match.expected, actual)}`
  )
}

/** Checks every writer's keys against its journal; returns one line per problem. */
export function checkWriters(journals: Map<string, WriterEntry[]>, final: Record<string, JsonObject>): string[] {
  const problems: string[] = []
  for (const [id, entries] of journals) {
    for (const entry of entries) {
      if (entry.t === 'V') problems.push(`${id}: its own copy of ${entry.mem} broke from its model: ${entry.what}`)
    }
    for (const [mem, { ops, ackedSeq }] of byMemory(entries)) {
      const actual = ownKeys(final[mem] ?? {}, id)
      const match = matchPrefix(ops, ackedSeq, actual)
      if (!match.matched) problems.push(describeMismatch(id, mem, ackedSeq, ops.length, match, actual))
    }
  }
  return problems
}

/** The acknowledged ops whose value (`w3-17`) is expected in the acked model but missing from `actual`. */
function lostOps(ops: Array<{ seq: number; op: Op }>, expected: Model, actual: Model): string[] {
  const present = (model: Model): Set<string> => {
    const tags = new Set<string>()
    JSON.stringify(model, (_key, value: unknown) => {
      if (typeof value === 'string' && /^w\d+-\d+$/.test(value)) tags.add(value)
      return value
    })
    return tags
  }
  const want = present(expected)
  const have = present(actual)
  const lost: string[] = []
  for (const { seq, op } of ops) {
    const tag = /^(w\d+)/.exec(op.key)![1] + `-${seq}`
    if (want.has(tag) && !have.has(tag)) lost.push(`#${seq} ${op.k} ${op.key}`)
  }
  return lost
}

function diffLine(expected: Model, actual: Model): string {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()
  const differing = keys.filter((key) => canonical(expected[key]) !== canonical(actual[key]))
  return differing
    .map((key) => `${key}: expected ${canonical(expected[key]) ?? 'absent'}, found ${canonical(actual[key]) ?? 'absent'}`)
    .join(' | ')
}

/**
 * Checks the external writer's keys; `prefix` is the projection prefix (`memory:`). The
 * projection (what the Redis keys hold now) tells an overwritten write from one never ingested.
 */
export function checkExternal(
  entries: ExternalEntry[],
  final: Record<string, JsonObject>,
  prefix: string,
  projections: Record<string, Record<string, Json>>,
): string[] {
  const byKey = new Map<string, Array<{ seq: number; value: Json | undefined; outcome: 'acked' | 'uncertain' }>>()
  const bySeq = new Map<number, { value: Json | undefined; outcome: 'acked' | 'uncertain' }>()
  for (const entry of entries) {
    if (entry.t === 'M') {
      const op = { seq: entry.seq, value: entry.value, outcome: 'uncertain' as 'acked' | 'uncertain' }
      bySeq.set(entry.seq, op)
      byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), op])
    } else if (entry.t === 'A') {
      const op = bySeq.get(entry.seq)
      if (op) op.outcome = 'acked'
    }
  }
  const problems: string[] = []
  for (const [key, ops] of byKey) {
    const rest = key.slice(prefix.length)
    const mem = rest.slice(0, rest.indexOf(':'))
    const field = rest.slice(rest.indexOf(':') + 1)
    const actual = Object.hasOwn(final[mem] ?? {}, field) ? final[mem]![field] : undefined
    const last = ops.at(-1)!
    const lastAcked = ops.findLast((op) => op.outcome === 'acked')
    const allowed = last.outcome === 'acked' ? [last] : [lastAcked, last]
    const show = (value: Json | undefined): string => (value === undefined ? 'absent' : canonical(value))
    if (allowed.some((op) => canonical(op?.value) === canonical(actual))) continue
    problems.push(
      `external ${key}: Redis acknowledged ${lastAcked ? `#${lastAcked.seq} = ${show(lastAcked.value)}` : 'nothing'}` +
        `${last.outcome === 'uncertain' ? ` (then #${last.seq} = ${show(last.value)} uncertain)` : ''}, but the final state has ${show(actual)}` +
        ` (the Redis key holds ${show(projections[mem]?.[field])} now)`,
    )
  }
  return problems
}

/** Checks that no copy is stuck with pending changes or never came online. */
export function checkStuck(reference: Copy, copies: Copy[]): string[] {
  const problems: string[] = []
  for (const copy of copies) {
    const missing = Object.keys(reference.memories).filter((mem) => copy.memories[mem] === undefined)
    if (missing.length > 0) problems.push(`${copy.name} never came online on ${missing.join(', ')}`)
    for (const [mem, pending] of Object.entries(copy.pending ?? {})) {
      if (pending > 0) problems.push(`${copy.name} is stuck with ${pending} pending change(s) on ${mem}`)
    }
  }
  return problems
}

/** Checks that every copy equals `reference`; names the keys that differ. */
export function checkCopies(reference: Copy, copies: Copy[]): string[] {
  const problems: string[] = []
  for (const copy of copies) {
    for (const [mem, expected] of Object.entries(reference.memories)) {
      const actual = copy.memories[mem]
      if (actual === undefined || canonical(actual) === canonical(expected)) continue
      problems.push(`${copy.name} differs from ${reference.name} on ${mem}: ${diffLine(expected, actual)}`)
    }
  }
  return problems
}

/** Checks that the projection keys of each memory are exactly its top-level values. */
export function checkProjection(
  final: Record<string, JsonObject>,
  projections: Record<string, Record<string, Json>>,
): string[] {
  const problems: string[] = []
  for (const [mem, doc] of Object.entries(final)) {
    const projected = projections[mem] ?? {}
    const diff = diffLine(doc, projected)
    if (diff) problems.push(`projection of ${mem} differs from the document (expected = document): ${diff}`)
  }
  return problems
}
