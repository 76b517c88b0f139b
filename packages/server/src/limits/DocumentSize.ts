/**
 * Keeps one memory's document under `maxBytes`. Measuring the document means encoding it,
 * so the size is estimated: the last measurement plus every update since (which counts
 * overwritten and deleted content too, so it only errs high). Only when the estimate says an
 * update would not fit is the document measured again, at most once a second: near the
 * limit an update may be refused up to a second early.
 */
import * as Y from 'yjs'

const REMEASURE_MS = 1000

export class DocumentSize {
  private estimate = 0
  private measuredAt = -Infinity

  constructor(
    private readonly doc: Y.Doc,
    readonly maxBytes: number,
  ) {
    doc.on('update', this.onUpdate)
  }

  private readonly onUpdate = (update: Uint8Array): void => {
    this.estimate += update.byteLength
  }

  /** Whether an update of `bytes` would take the document past `maxBytes`. */
  wouldExceed(bytes: number): boolean {
    if (this.estimate + bytes <= this.maxBytes) return false
    const now = performance.now()
    if (now - this.measuredAt >= REMEASURE_MS) {
      this.measuredAt = now
      this.estimate = Y.encodeStateAsUpdate(this.doc).byteLength
    }
    return this.estimate + bytes > this.maxBytes
  }

  /** The current estimate, in bytes (an upper bound). */
  get bytes(): number {
    return this.estimate
  }

  dispose(): void {
    this.doc.off('update', this.onUpdate)
  }
}
