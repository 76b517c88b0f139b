/**
 * The size workloads of issue 11, driven straight into a relay's room (no sockets, so that
 * 100,000 operations take seconds): writers are Yjs documents written through remem's views,
 * their updates go through `MemoryRoom.handleClientUpdate` (checked, applied, persisted,
 * compacted, new epochs) and to the other writers, as the relay would fan them out. A writer
 * that receives EPOCH replaces its document in place and joins again, as the client does.
 * Shared by test/epochSize.test.ts and bench/epochs.ts.
 */
import { MessageType, decodeMessage, docToJSON, getRoot, mergeDictKey, replaceDocument } from '@remem/client/protocol'
import type { SyncedList } from '@remem/client';
import { SyncedDict } from '@remem/client'
import type { MemoryRoom } from '@remem/server'
import * as Y from 'yjs'
import { createViewContext } from '../packages/client/src/model/ViewContext.ts'

/** One workload: a name and how operation `i` is made. */
export interface Workload {
  name: string
  writers: number
  /** Operation `i`, made by writer `i % writers` (or, `external`, by a plain Redis writer). */
  op: (writer: SyncedDict, i: number) => void
  /** Written as a plain Redis writer would be ingested (merged into the room's document). */
  external?: (root: Y.Array<unknown>, i: number, previous: Map<string, unknown>) => void
  /**
   * The document stays within the bound with no epoch at all: a new entry goes right after
   * its writer's latest one, so each writer's scalar entries form one run and their
   * tombstones merge into one, whoever overwrote them (docs/DESIGN.md, "Where a new entry
   * goes"). Nested values still leave tombstones inside them, and need epochs.
   */
  boundedWithoutEpochs?: true
}

const EXTERNAL_ORIGIN = Symbol('external writer')

export const WORKLOADS: Workload[] = [
  {
    name: 'one external Redis writer, SET w{0..49} {"value":{"v","ts"}} round robin',
    writers: 0,
    op: () => undefined,
    external: (root, i, previous) => {
      const key = `w${i % 50}`
      const next = { value: { v: i, ts: 1_700_000_000_000 + i } }
      mergeDictKey(root, key, previous.get(key) as never, next)
      previous.set(key, next)
    },
  },
  {
    name: "one client, set('k{0..49}', {v, ts}) round robin",
    writers: 1,
    op: (writer, i) => writer.set(`k${i % 50}`, { v: i, ts: 1_700_000_000_000 + i }),
  },
  {
    name: "five clients interleaved, set('k{0..9}', {v, ts})",
    writers: 5,
    op: (writer, i) => writer.set(`k${i % 10}`, { v: i, ts: 1_700_000_000_000 + i }),
  },
  {
    name: 'one client, a rolling list of the last 100 events (push + delete(0, n))',
    writers: 1,
    op: (writer, i) => {
      if (i === 0) writer.set('events', [])
      const events = writer.get('events') as SyncedList
      events.push({ n: i, at: 1_700_000_000_000 + i })
      if (events.length > 100) events.delete(0, events.length - 100)
    },
  },
  {
    name: 'five clients interleaved, scalar keys',
    writers: 5,
    // Writer i % 5 sets s{i % 10}: every key has one writer.
    op: (writer, i) => writer.set(`s${i % 10}`, i),
    boundedWithoutEpochs: true,
  },
  {
    name: 'five clients taking turns on the same scalar keys',
    writers: 5,
    // Writer i % 5 sets s{i % 7}: every key is overwritten by every writer in turn.
    op: (writer, i) => writer.set(`s${i % 7}`, i),
    boundedWithoutEpochs: true,
  },
]

/** What a run ended with. */
export interface WorkloadResult {
  jsonBytes: number
  /** The room's document encoded: what a new client downloads. */
  encodedBytes: number
  epoch: number
  refusals: string[]
}

interface Writer {
  doc: Y.Doc
  view: SyncedDict
  session: FakeSession
  seq: number
}

/** The parts of a ClientSession a room uses; it records refusals and follows EPOCH. */
class FakeSession {
  refusals: string[] = []
  epochState: { epoch: number; state: Uint8Array } | null = null
  send(frame: Uint8Array): void {
    const message = decodeMessage(frame)
    if (message.type === MessageType.epoch) this.epochState = { epoch: message.epoch, state: message.state }
  }
  ack(): void {}
  refuse(_name: string, code: number, message: string): void {
    this.refusals.push(`${code}: ${message}`)
  }
}

/** Bytes of `value` as JSON text (UTF-8). */
export const bytesOf = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).byteLength

/** Runs `ops` operations of `workload` into `room`, persisting every `batch` of them. */
export async function runWorkload(room: MemoryRoom, workload: Workload, ops: number, batch = 1000): Promise<WorkloadResult> {
  const writers: Writer[] = []
  for (let w = 0; w < workload.writers; w++) {
    const doc = new Y.Doc({ gc: true })
    const session = new FakeSession()
    const writer: Writer = { doc, view: new SyncedDict(getRoot(doc), createViewContext(doc)), session, seq: 0 }
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(room.doc), room)
    room.join(session as never, Y.encodeStateVector(doc), room.epoch)
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== null && origin !== undefined) return
      for (const other of writers) if (other !== writer) Y.applyUpdate(other.doc, update, room)
      room.handleClientUpdate(session as never, ++writer.seq, update)
    })
    writers.push(writer)
  }
  const previous = new Map<string, unknown>()
  for (let i = 0; i < ops; i++) {
    if (workload.external) room.doc.transact(() => workload.external!(getRoot(room.doc), i, previous), EXTERNAL_ORIGIN)
    else workload.op(writers[i % writers.length]!.view, i)
    if ((i + 1) % batch === 0 || i === ops - 1) {
      await room.whenPersisted()
      await room.whenCompacted()
      followEpoch(room, writers)
    }
  }
  const refusals = writers.flatMap((writer) => writer.session.refusals)
  for (const writer of writers) {
    room.leave(writer.session as never)
    writer.doc.destroy()
  }
  return {
    jsonBytes: bytesOf(docToJSON(room.doc)),
    encodedBytes: Y.encodeStateAsUpdate(room.doc).byteLength,
    epoch: room.epoch,
    refusals,
  }
}

/** Writers told of a new epoch take its document and join again (nothing of theirs is pending). */
function followEpoch(room: MemoryRoom, writers: Writer[]): void {
  for (const writer of writers) {
    const moved = writer.session.epochState
    if (!moved) continue
    writer.session.epochState = null
    replaceDocument(writer.doc, moved.state, room)
    room.join(writer.session as never, Y.encodeStateVector(writer.doc), moved.epoch)
  }
}

/** The bound of issue 11: 2 × the JSON size + 8 KiB. */
export const boundOf = (jsonBytes: number): number => 2 * jsonBytes + 8192
