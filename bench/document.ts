/**
 * Issue 2: the encoded size of a memory's document after 100,000 overwrites, through the
 * public API (each write its own update, as in use), against a plain `Y.Map` given the
 * same overwrites — the trap ARCHITECTURE.md describes (983 KB for 10 keys).
 *
 * The client here never reaches a relay (its WebSocket never opens): the document is the
 * same one a relay would hold, since both sides apply the same updates to a `gc: true` doc.
 */
import * as Y from 'yjs'
import { type Memory, SyncedDict, createClient } from '@remem/client'
import { type Cell, type Suite, formatBytes, now, round } from './lib.ts'
import { NeverOpenSocket } from '../packages/client/src/__tests__/helpers/NeverOpenSocket.ts'

const OVERWRITES = 100_000

const ratio = (value: number): string => `${value >= 10 ? Math.round(value) : value.toFixed(1)}×`

interface Case {
  name: string
  /** Writes overwrite number `i` (0-based) into the memory. */
  remem: (memory: Memory) => (i: number) => void
  /** The same overwrite on a plain Y.Map at the root of `doc`. */
  ymap: (doc: Y.Doc) => (i: number) => void
}

const CASES: Case[] = [
  {
    name: '1 key',
    remem: (memory) => (i) => memory.set('k', i),
    ymap: (doc) => {
      const map = doc.getMap('root')
      return (i) => map.set('k', i)
    },
  },
  {
    name: '10 keys round-robin',
    remem: (memory) => (i) => memory.set(`k${i % 10}`, i),
    ymap: (doc) => {
      const map = doc.getMap('root')
      return (i) => map.set(`k${i % 10}`, i)
    },
  },
  {
    name: 'nested field',
    remem: (memory) => {
      memory.set('obj', { f: 0, label: 'cpu' })
      const obj = memory.get('obj')
      if (!(obj instanceof SyncedDict)) throw new Error('obj is not a SyncedDict')
      return (i) => obj.set('f', i)
    },
    ymap: (doc) => {
      const root = doc.getMap('root')
      const obj = new Y.Map<unknown>()
      root.set('obj', obj)
      obj.set('f', 0)
      obj.set('label', 'cpu')
      return (i) => obj.set('f', i)
    },
  },
  {
    name: 'object rewrite {value, ts}',
    remem: (memory) => (i) => memory.set('cpu', { value: i % 100, ts: i }),
    ymap: (doc) => {
      const root = doc.getMap('root')
      return (i) => {
        // What a naive binding does: a new map per write.
        const obj = new Y.Map<unknown>()
        obj.set('value', i % 100)
        obj.set('ts', i)
        root.set('cpu', obj)
      }
    },
  },
]

interface Measured {
  bytes: number
  usPerWrite: number
}

async function measureRemem(write: Case['remem']): Promise<Measured> {
  const client = createClient({ url: 'ws://127.0.0.1:9/never', WebSocket: NeverOpenSocket, onError: () => {} })
  try {
    const memory = client.memory('document-bench')
    const overwrite = write(memory)
    const t0 = now()
    for (let i = 0; i < OVERWRITES; i++) overwrite(i)
    const elapsed = now() - t0
    return { bytes: Y.encodeStateAsUpdate(memory.doc).byteLength, usPerWrite: (elapsed * 1000) / OVERWRITES }
  } finally {
    await client.close()
  }
}

function measureYMap(write: Case['ymap']): Measured {
  const doc = new Y.Doc({ gc: true })
  try {
    const overwrite = write(doc)
    const t0 = now()
    for (let i = 0; i < OVERWRITES; i++) overwrite(i)
    const elapsed = now() - t0
    return { bytes: Y.encodeStateAsUpdate(doc).byteLength, usPerWrite: (elapsed * 1000) / OVERWRITES }
  } finally {
    doc.destroy()
  }
}

export const document: Suite = {
  name: 'document',
  issue: 2,
  title: `encoded document size after ${OVERWRITES.toLocaleString('en-US')} overwrites`,
  async run(ctx) {
    const rows: Cell[][] = []
    const figures: Record<string, unknown> = {}
    for (const testCase of CASES) {
      const remem = await measureRemem(testCase.remem)
      const ymap = measureYMap(testCase.ymap)
      ctx.progress(`document ${testCase.name}: remem ${remem.bytes} B, Y.Map ${ymap.bytes} B`)
      rows.push([
        testCase.name,
        remem.bytes,
        formatBytes(remem.bytes),
        ymap.bytes,
        formatBytes(ymap.bytes),
        ratio(ymap.bytes / Math.max(1, remem.bytes)),
        round(remem.usPerWrite, 1),
        round(ymap.usPerWrite, 1),
      ])
      figures[testCase.name] = {
        rememBytes: remem.bytes,
        ymapBytes: ymap.bytes,
        rememUsPerWrite: round(remem.usPerWrite, 2),
        ymapUsPerWrite: round(ymap.usPerWrite, 2),
      }
    }
    return {
      tables: [
        {
          title: `document — Y.encodeStateAsUpdate bytes after ${OVERWRITES.toLocaleString('en-US')} overwrites (one update each)`,
          columns: ['case', 'remem B', 'remem', 'Y.Map B', 'Y.Map', 'Y.Map ÷ remem', 'remem µs/write', 'Y.Map µs/write'],
          rows,
          notes: [
            'remem: mem.set / SyncedDict.set on an offline client (every change kept for sync); Y.Map: the same overwrites on a plain gc:true doc',
            'sizes are deterministic (1 run; the random clientID varint can move them by a few bytes); µs/write is indicative only',
          ],
        },
      ],
      figures: { overwrites: OVERWRITES, ...figures },
    }
  },
}
