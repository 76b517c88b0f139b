/**
 * What storage holds for a memory, tagged with its epoch: the stored document and each
 * queued change carry the epoch they belong to, and a change also its intent (so that it can
 * be carried onto a newer epoch after a reload; see intent/Intent.ts).
 *
 * Format: the bytes `ff 52 45 4d 01` ("REM" v1), varUint epoch, varString intent as JSON
 * (`null` for a document), then the Yjs update. Bytes without the header are what earlier
 * versions stored: epoch 0, no intent.
 */
import * as decoding from 'lib0/decoding'
import type { Intent } from '../intent/Intent.ts'

const MAGIC = [0xff, 0x52, 0x45, 0x4d, 0x01]

/** A stored document or change, unwrapped. */
export interface Enveloped {
  epoch: number
  /** The change's intent; null for a document, or for a change stored without one. */
  intents: Intent[] | null
  update: Uint8Array
}

const utf8 = new TextEncoder()

/** Where `wrap` encodes the intents' JSON before it knows its length (grown as needed). */
let scratch = new Uint8Array(1024)

/**
 * Wraps `update` of `epoch` (with `intents` for a change) for storage, in one exact
 * allocation from `allocate` (bytePool.ts's `allocatePooled` for bytes that stay in this process).
 */
export function wrap(
  epoch: number,
  update: Uint8Array,
  intents: Intent[] | null = null,
  allocate: (length: number) => Uint8Array = newBytes,
): Uint8Array {
  const json = JSON.stringify(intents)
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (scratch.length < json.length * 3) scratch = new Uint8Array(json.length * 3)
  const textLength = utf8.encodeInto(json, scratch).written
  const bytes = allocate(MAGIC.length + varUintLength(epoch) + varUintLength(textLength) + textLength + update.byteLength)
  bytes.set(MAGIC)
  let at = writeVarUint(bytes, MAGIC.length, epoch)
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

/** Unwraps what `wrap` stored; plain Yjs bytes are epoch 0 without intent. */
export function unwrap(bytes: Uint8Array): Enveloped {
  if (bytes.length < MAGIC.length || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    return { epoch: 0, intents: null, update: bytes }
  }
  const decoder = decoding.createDecoder(bytes.subarray(MAGIC.length))
  const epoch = decoding.readVarUint(decoder)
  const intents = JSON.parse(decoding.readVarString(decoder)) as Intent[] | null
  return { epoch, intents, update: decoding.readTailAsUint8Array(decoder) }
}
