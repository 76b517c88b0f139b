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
import * as encoding from 'lib0/encoding'
import type { Intent } from '../intent/Intent.ts'

const MAGIC = [0xff, 0x52, 0x45, 0x4d, 0x01]

/** A stored document or change, unwrapped. */
export interface Enveloped {
  epoch: number
  /** The change's intent; null for a document, or for a change stored without one. */
  intents: Intent[] | null
  update: Uint8Array
}

/** Wraps `update` of `epoch` (with `intents` for a change) for storage. */
export function wrap(epoch: number, update: Uint8Array, intents: Intent[] | null = null): Uint8Array {
  const encoder = encoding.createEncoder()
  for (const byte of MAGIC) encoding.writeUint8(encoder, byte)
  encoding.writeVarUint(encoder, epoch)
  encoding.writeVarString(encoder, JSON.stringify(intents))
  encoding.writeUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
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
