/**
 * A handshake diff too large for one UPDATE frame, cut into parts the relay accepts.
 *
 * Many small offline changes can merge into a diff larger than the relay's `maxUpdateBytes`
 * although each change is far below it; the relay would refuse that diff on every reconnect.
 * Instead the pending changes travel in order, consecutive ones merged into parts of at most
 * `maxBytes`, each part tagged with the seq of its last change. That keeps acknowledgements
 * sound (docs/PROTOCOL.md, "Acknowledgements"): the ACK of a part settles exactly the changes
 * up to its seq, all of which that part or an earlier one carried; a refused part stops the
 * ACKs at the part before it.
 */
import * as Y from 'yjs'

/** One UPDATE frame of a handshake sent in parts. */
export interface HandshakePart {
  /** The seq of the last change it carries. */
  readonly seq: number
  /** The changes merged, without what the relay already has. */
  readonly update: Uint8Array
  /** How many pending changes it carries. */
  readonly changes: number
}

/**
 * Groups `changes` (pending, oldest first) into parts of at most `maxBytes` each (a single
 * larger change is a part of its own), and returns them with the state vector the relay will
 * have once it applied them all (`relayVector` advanced by every change that continues it).
 */
export function handshakeParts(
  changes: ReadonlyArray<{ readonly seq: number; readonly update: Uint8Array }>,
  relayVector: Uint8Array,
  maxBytes: number,
): { parts: HandshakePart[]; vector: Map<number, number> } {
  const vector = Y.decodeStateVector(relayVector)
  const parts: HandshakePart[] = []
  let group: Array<{ seq: number; update: Uint8Array }> = []
  let bytes = 0
  const flush = (): void => {
    const last = group.at(-1)
    if (!last) return
    const merged = group.length === 1 ? last.update : Y.mergeUpdates(group.map((change) => change.update))
    parts.push({ seq: last.seq, update: Y.diffUpdate(merged, relayVector), changes: group.length })
    group = []
    bytes = 0
  }
  for (const change of changes) {
    if (group.length > 0 && bytes + change.update.byteLength > maxBytes) flush()
    group.push(change)
    bytes += change.update.byteLength
    const { from, to } = Y.parseUpdateMeta(change.update)
    for (const [client, clock] of to) {
      const held = vector.get(client) ?? 0
      if ((from.get(client) ?? 0) <= held && held < clock) vector.set(client, clock)
    }
  }
  flush()
  return { parts, vector }
}
