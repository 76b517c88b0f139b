/**
 * `--self-test`: removes one acknowledged list item (or, failing that, an acknowledged value)
 * from the final state the checks see, as a lost change would. The run must then FAIL.
 */
import type { Json, JsonObject } from '@remem/client/protocol'
import type { WriterEntry } from './journal.ts'

/** Returns a copy of `final` with one acknowledged change removed, and what was removed. */
export function injectLoss(
  final: Record<string, JsonObject>,
  journals: Map<string, WriterEntry[]>,
): { final: Record<string, JsonObject>; removed: string } {
  const copy = structuredClone(final)
  for (const [id, entries] of journals) {
    const ackedSeq = new Map<string, number>()
    for (const entry of entries) {
      if (entry.t === 'A') ackedSeq.set(entry.mem, Math.max(ackedSeq.get(entry.mem) ?? 0, entry.seq))
    }
    for (const entry of entries) {
      if (entry.t !== 'M' || entry.seq > (ackedSeq.get(entry.mem) ?? 0)) continue
      const tag = `${id}-${entry.seq}`
      const doc = copy[entry.mem]
      const list = doc?.[`${id}_l`]
      if ((entry.op.k === 'push' || entry.op.k === 'insert') && Array.isArray(list)) {
        const index = list.findIndex((item) => itemTag(item) === tag)
        if (index >= 0) {
          list.splice(index, 1)
          return { final: copy, removed: `list item ${tag} of ${id}_l in ${entry.mem}` }
        }
      }
    }
  }
  for (const [id, entries] of journals) {
    for (const entry of entries) {
      if (entry.t === 'M' && entry.op.k === 'set' && copy[entry.mem]?.[entry.op.key] !== undefined) {
        delete copy[entry.mem]![entry.op.key]
        return { final: copy, removed: `key ${entry.op.key} of ${id} in ${entry.mem}` }
      }
    }
  }
  throw new Error('self-test: no acknowledged change to remove; run longer (--seconds)')
}

function itemTag(item: Json): string | undefined {
  if (typeof item === 'string') return item
  if (item && typeof item === 'object' && !Array.isArray(item) && typeof item.i === 'string') return item.i
  return undefined
}
