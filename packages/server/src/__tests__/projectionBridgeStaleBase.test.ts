/**
 * An external delete ingested by a relay whose merge base is stale: another relay ingested the
 * key's newer value meanwhile, and this relay has not projected since (chaos seed 13: an
 * acknowledged DEL came back as the value before it). The key's record says what Redis held
 * before the delete, so the delete wins when the document still holds that; a claim of the
 * delete that lapsed passes that on to the relay taking it over.
 */
import { getRoot, scanDict } from '@remem/client/protocol'
import { afterEach, expect, it } from 'vitest'
import * as Y from 'yjs'
import { silentLogger } from '../logger.ts'
import { ProjectionBridge } from '../ProjectionBridge.ts'
import { EmbeddedProjection } from '../store/EmbeddedProjection.ts'
import { recordFor } from '../store/projectionFormat.ts'

const NAME = 'board'
const KEY = `remem:${NAME}:k`
const bridges: ProjectionBridge[] = []

afterEach(async () => {
  for (const bridge of bridges.splice(0)) await bridge.close()
})

/** Two relays' room documents, kept in sync at once, each with a bridge on one projection. */
function twoRelays() {
  const projection = new EmbeddedProjection('remem:')
  const rooms = [new Y.Doc({ gc: true }), new Y.Doc({ gc: true })] as const
  rooms[0].on('update', (update: Uint8Array) => Y.applyUpdate(rooms[1], update))
  rooms[1].on('update', (update: Uint8Array) => Y.applyUpdate(rooms[0], update))
  const [a, b] = rooms.map((room, i) => {
    const bridge = new ProjectionBridge(NAME, room, {
      projection,
      logger: silentLogger,
      stats: { ingests: 0, projected: 0 },
      // Flushed by the test, never by the timer.
      coalesceMs: 60_000,
      owner: `relay-${i}`,
      leaseMs: 5_000,
      persisted: async () => true,
    })
    bridges.push(bridge)
    return bridge
  }) as [ProjectionBridge, ProjectionBridge]
  /** Resolves once the record of `k` is `record` (an ingest's confirm lands after its apply). */
  const recorded = async (record: string | undefined): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if ((await projection.readAll(NAME)).recorded.get('k') === record) return
      await new Promise((resolve) => setImmediate(resolve))
    }
    throw new Error(`the record of k never became ${record}`)
  }
  return { projection, rooms, a, b, recorded }
}

const wrapped = (value: string): string => JSON.stringify({ value, last_modified: 1 })

/**
 * Relay A ingests x-49 (its merge base), then relay B ingests x-50; A's document follows, but
 * A does not project before what comes next.
 */
async function baseBehind() {
  const relays = twoRelays()
  const { projection, rooms, a, b, recorded } = relays
  projection.set(KEY, wrapped('x-49'))
  await a.reconcile()
  await recorded(recordFor('x-49', undefined, wrapped('x-49')))
  projection.set(KEY, wrapped('x-50'))
  await b.reconcile()
  await recorded(recordFor('x-50', undefined, wrapped('x-50')))
  expect(scanDict(getRoot(rooms[0])).entries.get('k')?.value).toBe('x-50')
  return relays
}

/** Relay A ingests the delete; then no document and no key holds k. */
async function aTakesTheDelete({ projection, rooms, a, recorded }: ReturnType<typeof twoRelays>): Promise<void> {
  await a.reconcile()
  await recorded(undefined)
  await a.flush()
  for (const room of rooms) expect(scanDict(getRoot(room)).entries.has('k')).toBe(false)
  expect((await projection.readAll(NAME)).keys.has('k')).toBe(false)
}

it('an external delete wins on a relay whose merge base is older than what the document holds', async () => {
  const relays = await baseBehind()
  relays.projection.del(KEY)
  await aTakesTheDelete(relays)
})

it('an external delete wins after the relay that claimed it stopped before confirming', async () => {
  const relays = await baseBehind()
  const { projection } = relays
  // A third relay claims the delete, then stops before persisting it: its lease lapses.
  projection.del(KEY)
  expect((await projection.claim(NAME, 'k', { kind: 'absent' }, 'relay-stopped', 1)).kind).toBe('claimed')
  await new Promise((resolve) => setTimeout(resolve, 10))
  await aTakesTheDelete(relays)
})
