/**
 * Issue 11's size bound against the layout itself: the fresh document of a new epoch (what a
 * memory holds right after the relay rebuilt it, `rebuildState`) for memories of one shape of
 * value each, beside the JSON of the same content. A fresh document has no history left to
 * drop, so where it is over 2 × JSON + 8 KiB, no epoch can bring the memory within the bound:
 * that is the limit docs/DESIGN.md states for many small nested values.
 */
import type { SyncedDict } from '@remem/client'
import { docToJSON, rebuildState } from '@remem/client/protocol'
import { createViews } from '../packages/client/src/__tests__/helpers/views.ts'
import { boundOf, bytesOf } from '../test/sizeWorkloads.ts'
import { type Cell, type Suite, formatBytes, round } from './lib.ts'

/** A shape of content: how to fill a memory with `count` entries of it. */
interface Shape {
  name: string
  fill(root: SyncedDict, count: number): void
}

const TS = 1_700_000_000_000

const SHAPES: Shape[] = [
  { name: 'keys → small integers', fill: (root, count) => forEach(count, (i) => root.set(`k${i}`, i)) },
  { name: 'keys → 20-character strings', fill: (root, count) => forEach(count, (i) => root.set(`k${i}`, 'x'.repeat(20))) },
  { name: 'keys → { v, ts }', fill: (root, count) => forEach(count, (i) => root.set(`k${i}`, { v: i, ts: TS + i })) },
  { name: 'keys → { a: { b } }', fill: (root, count) => forEach(count, (i) => root.set(`k${i}`, { a: { b: i } })) },
  { name: 'a list of small integers', fill: (root, count) => root.set('l', Array.from({ length: count }, (_, i) => i)) },
  { name: 'a list of { k }', fill: (root, count) => root.set('l', Array.from({ length: count }, (_, i) => ({ k: i }))) },
  { name: 'a list of [i, i]', fill: (root, count) => root.set('l', Array.from({ length: count }, (_, i) => [i, i])) },
]

const COUNTS = [100, 1_000, 10_000]

function forEach(count: number, write: (i: number) => void): void {
  for (let i = 0; i < count; i++) write(i)
}

export const shapes: Suite = {
  name: 'shapes',
  issue: 11,
  title: 'a fresh epoch\'s document by shape of value, beside its JSON and the bound',
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const shape of SHAPES) {
      for (const count of COUNTS) {
        const { doc, root } = createViews()
        doc.transact(() => shape.fill(root, count))
        const json = bytesOf(docToJSON(doc))
        const fresh = rebuildState(doc).byteLength
        doc.destroy()
        const bound = boundOf(json)
        rows.push([
          shape.name,
          count,
          formatBytes(json),
          formatBytes(fresh),
          round((fresh - json) / count, 1),
          `${round(fresh / json, 2)}×`,
          fresh <= bound ? 'yes' : 'no',
        ])
        figures[`${shape.name}/${count}`] = { json, fresh, bound }
        ctx.progress(`shapes: ${shape.name} × ${count}: JSON ${json} B, fresh ${fresh} B`)
      }
    }
    return {
      tables: [
        {
          title: 'shapes — bytes of a fresh epoch\'s document (rebuildState) against JSON.stringify of the same content',
          columns: ['content', 'entries', 'JSON', 'fresh document', 'bytes per entry over JSON', 'fresh ÷ JSON', 'within 2 × JSON + 8 KiB'],
          rows,
          notes: [
            'a fresh document holds no history: where it is over the bound, no epoch brings the memory within it',
            'each nested value is a write-once Y.Map { k, w, t, v } around a Y.Array (layout.ts): 5 to 6 Yjs structs, each naming its parent',
          ],
        },
      ],
      figures,
    }
  },
}
