/**
 * A group of clients of the `peers` suite, in a process of its own (forked by
 * processes.ts), running one job (see protocol.ts) and reporting over IPC.
 *
 * Writers write in a closed loop: `window` updates, then wait for their acknowledgement.
 * y-websocket has no acknowledgement, so there a "witness" reader of each document, in
 * this process, stands in for it: an update counts once the witness has seen it.
 */
import { performance } from 'node:perf_hooks'
import { type Conn, type Value, allErrors, hasAck, keepsState, open, waitFor } from './adapters.ts'
import type { ClientCommand, ClientJob, ClientMessage, JobResult, LatencySummary, ServerKind } from './protocol.ts'

/** Clients opened at once; the next batch waits for this one's handshakes. */
const BATCH = 100
/** How long final states may take to arrive before a client counts as left behind. */
const SETTLE_MS = 30_000

// y-websocket's provider adds a process 'exit' listener per connection.
process.setMaxListeners(0)

const wallClock = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function send(message: ClientMessage): void {
  process.send?.(message)
}

const commands: ClientCommand[] = []
let onCommand: (() => void) | null = null
function nextCommand(): Promise<ClientCommand> {
  const queued = commands.shift()
  if (queued) return Promise.resolve(queued)
  return new Promise((resolve) => {
    onCommand = () => {
      onCommand = null
      resolve(commands.shift()!)
    }
  })
}

/** Resolves true once `check` holds, false after `ms`. */
async function settles(conn: Conn, check: () => boolean, ms = SETTLE_MS): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  const result = await Promise.race([waitFor(conn, check).then(() => true), timeout])
  clearTimeout(timer)
  return result
}

async function openAll(system: ServerKind, url: string, docs: string[], count: number): Promise<Conn[]> {
  const conns: Conn[] = []
  for (let start = 0; start < count; start += BATCH) {
    const batch: Conn[] = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(open(system, url, docs[i % docs.length]!))
    await Promise.all(batch.map((conn) => conn.synced))
    conns.push(...batch)
  }
  return conns
}

function summarize(latencies: number[]): LatencySummary {
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? Number.NaN
  return { count: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? Number.NaN }
}

async function writers(job: Extract<ClientJob, { type: 'writers' }>, conns: Conn[]): Promise<JobResult> {
  const { system, url, docs } = job
  const ackBy = hasAck(system)
  const witnesses = ackBy ? [] : await openAll(system, url, docs, docs.length)
  conns.push(...(await openAll(system, url, docs, job.writers)), ...witnesses)
  const writersOf = conns.slice(0, job.writers)
  const last: Value[] = writersOf.map(() => -1)
  const written = writersOf.map(() => 0)

  const acked = (index: number): Promise<void> => {
    if (ackBy) return writersOf[index]!.whenAcked()
    const witness = witnesses[index % docs.length]!
    return waitFor(witness, () => witness.get(`k${index}`) === last[index])
  }
  const phase = async (durationMs: number): Promise<{ acked: number; elapsedMs: number }> => {
    const start = performance.now()
    const end = start + durationMs
    let lastAck = start
    const counts = await Promise.all(
      writersOf.map(async (conn, index) => {
        let count = 0
        while (performance.now() < end) {
          for (let j = 0; j < job.window; j++) conn.set(`k${index}`, (last[index] = written[index]!++))
          await acked(index)
          count += job.window
          lastAck = Math.max(lastAck, performance.now())
        }
        return count
      }),
    )
    return { acked: counts.reduce((a, b) => a + b, 0), elapsedMs: lastAck - start }
  }
  await phase(job.warmupMs)
  send({ type: 'measuring' })
  const measured = await phase(job.durationMs)
  send({ type: 'measured' })

  // Final states: a fresh client finds every writer's last acknowledged value on the
  // server, and writers sharing a document all reach every other writer's last value.
  let lost: number | null = null
  if (keepsState(system)) {
    lost = 0
    const checkers = await openAll(system, url, docs, Math.min(docs.length, 100))
    for (let i = 0; i < job.writers; i++) {
      const checker = checkers[i % docs.length]
      if (checker && !(await settles(checker, () => checker.get(`k${i}`) === last[i], 5_000))) lost++
    }
    await Promise.all(checkers.map((conn) => conn.close()))
  }
  let behind = 0
  if (docs.length < job.writers) {
    const verdicts = await Promise.all(
      writersOf.map((conn, index) =>
        settles(conn, () => last.every((value, i) => i % docs.length !== index % docs.length || conn.get(`k${i}`) === value)),
      ),
    )
    behind = verdicts.filter((ok) => !ok).length
  }
  return { ...measured, lost, behind, errors: 0, firstError: null }
}

async function readers(job: Extract<ClientJob, { type: 'readers' }>, conns: Conn[]): Promise<JobResult> {
  conns.push(...(await openAll(job.system, job.url, [job.doc], job.readers)))
  const latencies: number[] = []
  const seen = conns.map(() => 0)
  conns.forEach((conn, index) =>
    conn.onChange(() => {
      const value = conn.get('t')
      if (typeof value !== 'string') return
      const [seq, at] = value.split(':').map(Number) as [number, number]
      if (seq === seen[index]) return
      seen[index] = seq
      latencies.push(wallClock() - at)
    }),
  )
  send({ type: 'ready' })
  const command = await nextCommand()
  if (command.type !== 'finish') throw new Error(`readers: expected finish, got ${command.type}`)
  const verdicts = await Promise.all(conns.map((conn, index) => settles(conn, () => seen[index] === command.lastSeq)))
  return { latency: summarize(latencies), behind: verdicts.filter((ok) => !ok).length, errors: 0, firstError: null }
}

async function writer(job: Extract<ClientJob, { type: 'writer' }>, conns: Conn[]): Promise<JobResult> {
  const [conn] = await openAll(job.system, job.url, [job.doc], 1)
  conns.push(conn!)
  send({ type: 'ready' })
  const command = await nextCommand()
  if (command.type !== 'go') throw new Error(`writer: expected go, got ${command.type}`)
  const total = Math.round((job.perSecond * job.durationMs) / 1000)
  const interval = 1000 / job.perSecond
  const start = performance.now()
  for (let seq = 1; seq <= total; seq++) {
    const due = start + (seq - 1) * interval
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    conn!.set('t', `${seq}:${wallClock()}`)
  }
  if (hasAck(job.system)) await conn!.whenAcked()
  return { lastSeq: total, errors: 0, firstError: null }
}

async function idle(job: Extract<ClientJob, { type: 'idle' }>, conns: Conn[]): Promise<JobResult> {
  conns.push(...(await openAll(job.system, job.url, job.docs, job.connections)))
  send({ type: 'ready' })
  await nextCommand()
  return { errors: 0, firstError: null }
}

async function run(job: ClientJob): Promise<ClientMessage> {
  const conns: Conn[] = []
  try {
    const result =
      job.type === 'writers'
        ? await writers(job, conns)
        : job.type === 'readers'
          ? await readers(job, conns)
          : job.type === 'writer'
            ? await writer(job, conns)
            : await idle(job, conns)
    const errors = allErrors()
    return { type: 'done', ...result, errors: errors.length, firstError: errors[0]?.message ?? null }
  } finally {
    await Promise.race([Promise.all(conns.map((conn) => conn.close())), sleep(10_000)])
  }
}

// The suite's process is gone (killed, or crashed): nothing will stop this one otherwise.
process.once('disconnect', () => process.exit(0))
let started = false
process.on('message', (message: ClientJob | ClientCommand) => {
  if (message.type === 'exit') {
    process.exit(0)
  } else if (message.type === 'go' || message.type === 'finish') {
    commands.push(message)
    onCommand?.()
  } else if (!started) {
    started = true
    run(message).then(send, (error: unknown) => send({ type: 'failed', message: String(error) }))
  }
})
