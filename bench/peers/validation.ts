/**
 * The relay's validation per update, measured apart from sockets and Redis (the `peers`
 * suite's end-to-end figures are noisy on a shared machine).
 *
 * Real remem clients write to an in-process relay on the embedded store, in the pattern of
 * the suite's `w1` and `w10` workloads; every update the relay receives is recorded in
 * arrival order. Then the updates are replayed on a fresh document: each is validated
 * (`validateUpdate`) and applied (`Y.applyUpdate`), as the relay does, and again applied
 * only; CPU time (not wall time, which other processes inflate) gives the cost of each.
 *
 *   node --conditions=@remem/source --import tsx bench/peers/validation.ts [baseline]
 *
 * With `baseline`, the path of another copy of validateUpdate.ts (e.g. the files of an
 * earlier commit, from `git show <commit>:packages/server/src/<file>.ts`), both are timed in
 * alternating rounds on the same updates, so that a busy machine slows both alike.
 */
import * as Y from 'yjs'
import { MemoryRoom, createRelay, silentLogger, validateUpdate } from '@remem/server'
import { closeAll, connect, whenOnline } from '../lib.ts'

const LIMITS = { maxUpdateBytes: 1024 * 1024, maxClockAdvance: 10_000_000 }

/** Records the updates a relay's rooms receive while `write` runs. */
async function record(writers: number, window: number, updates: number): Promise<Uint8Array[]> {
  const recorded: Uint8Array[] = []
  const original = MemoryRoom.prototype.handleClientUpdate
  MemoryRoom.prototype.handleClientUpdate = function (this: MemoryRoom, session, seq, update) {
    recorded.push(update.slice())
    return original.call(this, session, seq, update)
  }
  const relay = await createRelay({ port: 0, logger: silentLogger, maxMessagesPerSecond: 1_000_000, metrics: false })
  const clients = Array.from({ length: writers }, () => connect(relay.url))
  try {
    const memories = clients.map((client) => client.memory('validation'))
    await Promise.all(memories.map((memory) => whenOnline(memory)))
    let value = 0
    await Promise.all(
      memories.map(async (memory, index) => {
        while (recorded.length < updates) {
          for (let j = 0; j < window; j++) memory.set(`k${index}`, value++)
          await memory.whenSynced()
        }
      }),
    )
  } finally {
    await closeAll(clients)
    await relay.close()
    MemoryRoom.prototype.handleClientUpdate = original
  }
  return recorded
}

type Validate = typeof validateUpdate

interface Timing {
  validateUs: number
  applyUs: number
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1]!

/** CPU time of this process (user + system) in µs: unlike wall time, not inflated by other processes. */
const cpuUs = (): number => {
  const { user, system } = process.cpuUsage()
  return user + system
}

/**
 * Replays `updates` on a fresh document twice: validating and applying each, then applying
 * only. Per-update CPU time of applying, and of validating (the difference).
 */
function replay(updates: Uint8Array[], validate: Validate): Timing {
  let doc = new Y.Doc({ gc: true })
  const t0 = cpuUs()
  for (const update of updates) {
    const verdict = validate(doc, update, LIMITS)
    if (!verdict.ok) throw new Error(`recorded update refused: ${verdict.reason}`)
    Y.applyUpdate(doc, update)
  }
  const t1 = cpuUs()
  doc = new Y.Doc({ gc: true })
  for (const update of updates) Y.applyUpdate(doc, update)
  const t2 = cpuUs()
  return { validateUs: (t1 - t0 - (t2 - t1)) / updates.length, applyUs: (t2 - t1) / updates.length }
}

const baselinePath = process.argv[2]
const baseline = baselinePath
  ? ((await import(new URL(baselinePath, `file://${process.cwd()}/`).href)) as { validateUpdate: Validate }).validateUpdate
  : null
const ROUNDS = 9

for (const [label, writers, window] of [
  ['1 writer, window 64', 1, 64],
  ['10 writers, window 7', 10, 7],
] as const) {
  const updates = await record(writers, window, 5_000)
  const bytes = updates.reduce((sum, u) => sum + u.byteLength, 0) / updates.length
  const now: Timing[] = []
  const before: Timing[] = []
  for (let round = 0; round < ROUNDS; round++) {
    now.push(replay(updates, validateUpdate))
    if (baseline) before.push(replay(updates, baseline))
  }
  const us = (timings: Timing[], pick: (t: Timing) => number): string => median(timings.map(pick)).toFixed(1)
  console.log(
    `${label}: ${updates.length} updates of ${bytes.toFixed(0)} B on average; CPU per update, median of ${ROUNDS} rounds: ` +
      `validateUpdate ${us(now, (t) => t.validateUs)} µs` +
      (baseline ? ` (baseline ${us(before, (t) => t.validateUs)} µs)` : '') +
      `, Y.applyUpdate ${us(now, (t) => t.applyUs)} µs`,
  )
}
