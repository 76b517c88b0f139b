/**
 * A relay's room document with a projection bridge on the embedded projection, for tests of
 * the bridge alone (no relay, no Redis). The bridge flushes only when the test says so.
 */
import { type Json, dictSet, getRoot } from '@remem/client/protocol'
import * as Y from 'yjs'
import { silentLogger } from '../../logger.ts'
import { ProjectionBridge } from '../../ProjectionBridge.ts'
import { EmbeddedProjection } from '../../store/EmbeddedProjection.ts'
import type { ProjectionWrite, WriteResult } from '../../store/Projection.ts'

export const NAME = 'board'

/** The embedded projection, noting the keys of every write the bridge makes. */
export class NotingProjection extends EmbeddedProjection {
  readonly written: string[][] = []

  override write(name: string, writes: ProjectionWrite[]): Promise<WriteResult> {
    this.written.push(writes.map((write) => write.key).sort())
    return super.write(name, writes)
  }
}

/** A document holding keys k0…k(size-1), as a client wrote them. */
export function writerOf(size: number): Y.Doc {
  const writer = new Y.Doc()
  writer.transact(() => {
    for (let i = 0; i < size; i++) dictSet(getRoot(writer), `k${i}`, i)
  })
  return writer
}

/** The update `edit` makes on `doc` (a client's document), not applied anywhere else. */
export function updateOf(doc: Y.Doc, edit: (root: Y.Array<unknown>) => void): Uint8Array {
  const updates: Uint8Array[] = []
  const collect = (update: Uint8Array): void => void updates.push(update)
  doc.on('update', collect)
  doc.transact(() => edit(getRoot(doc)))
  doc.off('update', collect)
  return Y.mergeUpdates(updates)
}

/** A room document holding `writer`'s content and a bridge on it. Close the bridge after. */
export function bridgeRoom(writer: Y.Doc) {
  const room = new Y.Doc({ gc: true })
  Y.applyUpdate(room, Y.encodeStateAsUpdate(writer))
  const projection = new NotingProjection('remem:')
  const bridge = new ProjectionBridge(NAME, room, {
    projection,
    logger: silentLogger,
    stats: { ingests: 0, projected: 0 },
    // Flushed by the test, never by the timer.
    coalesceMs: 60_000,
    owner: 'relay-1',
    leaseMs: 5_000,
    persisted: async () => true,
  })
  /** What the projection holds, key by key (absent keys left out). */
  const projected = async (): Promise<Record<string, Json>> => {
    const out: Record<string, Json> = {}
    for (const [key, read] of (await projection.readAll(NAME)).keys) if (read.kind === 'value') out[key] = read.value
    return out
  }
  return { room, projection, bridge, projected }
}
