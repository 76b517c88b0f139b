/**
 * When a memory starts a new epoch (docs/DESIGN.md, "Epochs: a bounded document").
 *
 * The room counts the bytes its store holds for the memory (snapshot plus log). Once they
 * pass `limit`, the room measures: the encoded document and its JSON. When the document is
 * over 1.5 × JSON + `slackBytes` and a fresh document of the same content is smaller by at
 * least `slackBytes / 4`, it starts a new epoch; otherwise it compacts as before. The next
 * measurement waits until the stored bytes pass that threshold again, and at least
 * `slackBytes / 2` more than was just stored, so measuring costs a bounded share of the
 * writes. The stored bytes then stay under 1.5 × JSON + `slackBytes` (plus what one append
 * adds) as long as a fresh document of the content fits there.
 */
import { docToJSON, rebuildState } from '@remem/client/protocol'
import * as Y from 'yjs'

/** Slack of the trigger: rebuild past 1.5 × JSON + this many bytes (the bound is 2 × JSON + 8 KiB). */
export const DEFAULT_EPOCH_SLACK_BYTES = 4096

const encoder = new TextEncoder()

/** What a measurement decided: the encoded document, and the new epoch's state when one is due. */
export interface EpochDecision {
  encoded: Uint8Array
  fresh: Uint8Array | null
}

/** Tracks a memory's stored bytes and decides when to measure and when to rebuild. */
export class EpochPolicy {
  /** Bytes the store holds for the memory: the snapshot and every log entry after it. */
  storedBytes = 0
  private limit: number

  /**
   * @param automatic whether the room starts new epochs by itself when the document passes the
   *   threshold (the relay's `epochs` option); when false only a forced `decide` starts one.
   */
  constructor(
    readonly automatic = true,
    readonly slackBytes = DEFAULT_EPOCH_SLACK_BYTES,
  ) {
    this.limit = slackBytes
  }

  /** The memory was loaded with a snapshot of `snapshotBytes` and log entries of `logBytes`. */
  loaded(snapshotBytes: number, logBytes: number): void {
    this.storedBytes = snapshotBytes + logBytes
  }

  /** An entry of `bytes` reached the log. */
  appended(bytes: number): void {
    this.storedBytes += bytes
  }

  /** Whether the stored bytes grew enough since the last measurement to measure again. */
  get due(): boolean {
    return this.automatic && this.storedBytes > this.limit
  }

  /** Measures `doc`; returns its encoding and, when a new epoch pays off, the fresh state. */
  decide(doc: Y.Doc, force = false): EpochDecision {
    const encoded = Y.encodeStateAsUpdate(doc)
    const jsonBytes = encoder.encode(JSON.stringify(docToJSON(doc))).byteLength
    const threshold = 1.5 * jsonBytes + this.slackBytes
    let fresh: Uint8Array | null = null
    if (force || (this.automatic && encoded.byteLength > threshold)) {
      const candidate = rebuildState(doc, freshClientId())
      if (force || candidate.byteLength + this.slackBytes / 4 <= encoded.byteLength) fresh = candidate
    }
    const stored = (fresh ?? encoded).byteLength
    this.limit = Math.max(threshold, stored + this.slackBytes / 2)
    return { encoded, fresh }
  }

  /** The decision could not be carried out (the log moved on): measure again after the next append. */
  retry(): void {
    this.limit = this.storedBytes
  }

  /** The store now holds `bytes` (after a compaction or a new epoch). */
  compacted(bytes: number): void {
    this.storedBytes = bytes
  }
}

/** A Yjs client id for a fresh document (random, as Yjs picks them). */
function freshClientId(): number {
  return Math.floor(Math.random() * 0xffffffff) >>> 0
}
