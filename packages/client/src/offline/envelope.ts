/**
 * What storage holds for a memory, tagged with its epoch: the stored document and each
 * queued change carry the epoch they belong to, and a change also its intent (so that it can
 * be carried onto a newer epoch after a reload; see intent/Intent.ts).
 *
 * Format: the bytes `ff 52 45 4d 01` ("REM" v1), varUint epoch, varString intent as JSON
 * (`null` for a document), then the Yjs update. A change of several local transactions (a
 * burst, offline/Burst.ts): `ff 52 45 4d 03`, varUint epoch, varUint transactions, then as
 * v1. A document that knows the state vectors earlier epochs ended with (`wrapDocument`):
 * `ff 52 45 4d 02`, varUint epoch, varUint count, then for each a varUint epoch and a
 * varUint8Array vector, then the update. Bytes without a header are what earlier versions
 * stored: epoch 0, no intent.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Intent } from '../intent/Intent.ts'

const MAGIC = [0xff, 0x52, 0x45, 0x4d, 0x01]
const DOCUMENT_MAGIC = [0xff, 0x52, 0x45, 0x4d, 0x02]
const BURST_MAGIC = [0xff, 0x52, 0x45, 0x4d, 0x03]
/** Ended vectors a stored document keeps: changes a stopped tab queued that many epochs back are still recognized. */
const KEPT_VECTORS = 4

/** The state vector epoch `epoch` ended with: what of that epoch the next one holds. */
export interface EndedVector {
  epoch: number
  vector: Uint8Array
}

/** A stored document or change, unwrapped. */
export interface Enveloped {
  epoch: number
  /** The change's intent; null for a document, or for a change stored without one. */
  intents: Intent[] | null
  update: Uint8Array
  /** For a stored change: the local transactions it holds (1 unless it was a burst). */
  writes: number
  /** For a stored document: the vectors earlier epochs ended with, where known (oldest first). */
  ended?: readonly EndedVector[]
}

const utf8 = new TextEncoder()

/** Where `wrap` encodes the intents' JSON before it knows its length (grown as needed). */
let scratch = new Uint8Array(1024)

/**
 * Wraps `update` of `epoch` (with `intents` for a change, or their JSON, and the local
 * transactions it holds) for storage, in one exact allocation from `allocate` (bytePool.ts's
 * `allocatePooled` for bytes that stay in this process).
 */
export function wrap(
  epoch: number,
  update: Uint8Array,
  intents: Intent[] | string | null = null,
  allocate: (length: number) => Uint8Array = newBytes,
  writes = 1,
): Uint8Array {
  const json = typeof intents === 'string' ? intents : JSON.stringify(intents)
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (scratch.length < json.length * 3) scratch = new Uint8Array(json.length * 3)
  const textLength = utf8.encodeInto(json, scratch).written
  const burst = writes > 1
  const header = MAGIC.length + varUintLength(epoch) + (burst ? varUintLength(writes) : 0) + varUintLength(textLength)
  const bytes = allocate(header + textLength + update.byteLength)
  bytes.set(burst ? BURST_MAGIC : MAGIC)
  let at = writeVarUint(bytes, MAGIC.length, epoch)
  if (burst) at = writeVarUint(bytes, at, writes)
  at = writeVarUint(bytes, at, textLength)
  // A short text by a loop: no view allocated.
  if (textLength <= 256) for (let i = 0; i < textLength; i++) bytes[at + i] = scratch[i]!
  else bytes.set(scratch.subarray(0, textLength), at)
  bytes.set(update, at + textLength)
  return bytes
}

function newBytes(length: number): Uint8Array {
  return new Uint8Array(length)
}

function varUintLength(value: number): number {
  let length = 1
  while (value > 0x7f) {
    value = Math.floor(value / 128)
    length++
  }
  return length
}

/** Writes `value` as lib0's varUint at `at`; returns the offset after it. */
function writeVarUint(bytes: Uint8Array, at: number, value: number): number {
  while (value > 0x7f) {
    bytes[at++] = 0x80 | (value & 0x7f)
    value = Math.floor(value / 128)
  }
  bytes[at++] = value
  return at
}

/**
 * Wraps a document of `epoch` for storage, with the vectors earlier epochs ended with (where
 * known), so that a later load can tell which changes stored in those epochs the document
 * already holds.
 */
export function wrapDocument(epoch: number, update: Uint8Array, ended: readonly EndedVector[]): Uint8Array {
  if (ended.length === 0) return wrap(epoch, update)
  const encoder = encoding.createEncoder()
  for (const byte of DOCUMENT_MAGIC) encoding.writeUint8(encoder, byte)
  encoding.writeVarUint(encoder, epoch)
  encoding.writeVarUint(encoder, ended.length)
  for (const { epoch: endedEpoch, vector } of ended) {
    encoding.writeVarUint(encoder, endedEpoch)
    encoding.writeVarUint8Array(encoder, vector)
  }
  encoding.writeUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

/** The last `KEPT_VECTORS` of both lists, one per epoch, oldest first. */
export function keptVectors(a: readonly EndedVector[], b: readonly EndedVector[]): EndedVector[] {
  const byEpoch = new Map<number, EndedVector>()
  for (const entry of [...a, ...b]) byEpoch.set(entry.epoch, entry)
  return [...byEpoch.values()].sort((x, y) => x.epoch - y.epoch).slice(-KEPT_VECTORS)
}

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean =>
  bytes.length >= magic.length && magic.every((byte, i) => bytes[i] === byte)

/** Unwraps what `wrap` or `wrapDocument` stored; plain Yjs bytes are epoch 0 without intent. */
export function unwrap(bytes: Uint8Array): Enveloped {
  if (startsWith(bytes, DOCUMENT_MAGIC)) {
    const decoder = decoding.createDecoder(bytes.subarray(DOCUMENT_MAGIC.length))
    const epoch = decoding.readVarUint(decoder)
    const ended: EndedVector[] = []
    for (let count = decoding.readVarUint(decoder); count > 0; count--) {
      // Copies: a view would keep the whole stored document's bytes alive with the vector.
      ended.push({ epoch: decoding.readVarUint(decoder), vector: decoding.readVarUint8Array(decoder).slice() })
    }
    return { epoch, intents: null, writes: 1, update: decoding.readTailAsUint8Array(decoder), ended }
  }
  const burst = startsWith(bytes, BURST_MAGIC)
  if (!burst && !startsWith(bytes, MAGIC)) return { epoch: 0, intents: null, writes: 1, update: bytes }
  const decoder = decoding.createDecoder(bytes.subarray(MAGIC.length))
  const epoch = decoding.readVarUint(decoder)
  const writes = burst ? decoding.readVarUint(decoder) : 1
  const intents = JSON.parse(decoding.readVarString(decoder)) as Intent[] | null
  return { epoch, intents, writes, update: decoding.readTailAsUint8Array(decoder) }
}
