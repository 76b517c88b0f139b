/**
 * The client side of the `scale` suite, in a process of its own (forked by scale.ts) so that
 * the clients do not share the relays' or the harness's event loop.
 *
 * - `load`: `clients` writers, writer i on relay `urls[(offset + i) % urls.length]` and
 *   memory `memories[(offset + i) % memories.length]`, each writing `mem.set('k', n)` and
 *   awaiting `whenSynced()` every `window` writes; reports acknowledged updates.
 * - `probe`: one writer on `urls[0]` sets `ping = { t }` every `intervalMs`; `readers`
 *   readers spread over every relay record the delay to each arrival (one process, one clock).
 */
import { SyncedDict } from '@remem/client'
import type { Memory } from '@remem/client'
import { type BenchClient, closeAll, connect, cpuMeter, now, sleep, whenOnline } from './lib.ts'

export interface ScaleRun {
  type: 'run'
  role: 'load' | 'probe'
  urls: string[]
  memories: string[]
  /** load: writers in this process; probe: readers. */
  clients: number
  /** Spreads writers of several processes over relays and memories. */
  offset: number
  window: number
  intervalMs: number
  warmupMs: number
  durationMs: number
}

export type ScaleMessage =
  | { type: 'ready' }
  | {
      type: 'result'
      /** load: updates acknowledged in the measured phase. */
      acked: number
      elapsedMs: number
      /** probe: every arrival's delay in ms. */
      latencies: number[]
      /** probe: pings sent × readers. */
      expected: number
      cpu: number
      errors: number
      firstError: string | null
    }
  | { type: 'failed'; message: string }

const send = (message: ScaleMessage): void => void process.send?.(message)

/** Waits for the parent's 'go' so every process starts measuring at once. */
let go: (() => void) | null = null
const started = (): Promise<void> => new Promise((resolve) => (go = resolve))

async function writeLoop(memories: Memory[], window: number, until: number): Promise<number> {
  const counts = await Promise.all(
    memories.map(async (memory) => {
      let acked = 0
      let value = 0
      while (now() < until) {
        for (let j = 0; j < window; j++) memory.set('k', value++)
        await memory.whenSynced()
        acked += window
      }
      return acked
    }),
  )
  return counts.reduce((a, b) => a + b, 0)
}

async function load(request: ScaleRun, clients: BenchClient[]): Promise<ScaleMessage> {
  const memories: Memory[] = []
  for (let i = 0; i < request.clients; i++) {
    const slot = request.offset + i
    const client = connect(request.urls[slot % request.urls.length]!)
    clients.push(client)
    memories.push(client.memory(request.memories[slot % request.memories.length]!))
  }
  await Promise.all(memories.map((memory) => whenOnline(memory, 60_000)))
  const begin = started()
  send({ type: 'ready' })
  await begin
  await writeLoop(memories, request.window, now() + request.warmupMs)
  const cpu = cpuMeter()
  const t0 = now()
  const acked = await writeLoop(memories, request.window, t0 + request.durationMs)
  return { type: 'result', acked, elapsedMs: now() - t0, latencies: [], expected: 0, cpu: cpu(), errors: 0, firstError: null }
}

async function probe(request: ScaleRun, clients: BenchClient[]): Promise<ScaleMessage> {
  const name = request.memories[0]!
  const writer = connect(request.urls[0]!)
  clients.push(writer)
  const latencies: number[] = []
  const readers: Memory[] = []
  for (let i = 0; i < request.clients; i++) {
    const reader = connect(request.urls[i % request.urls.length]!)
    clients.push(reader)
    const memory = reader.memory(name)
    let last: number | undefined
    memory.subscribe(() => {
      const ping = memory.get('ping')
      const t = ping instanceof SyncedDict ? ping.get('t') : undefined
      if (typeof t !== 'number' || t === last) return
      last = t
      latencies.push(now() - t)
    })
    readers.push(memory)
  }
  const out = writer.memory(name)
  await Promise.all([out, ...readers].map((memory) => whenOnline(memory, 60_000)))
  const begin = started()
  send({ type: 'ready' })
  await begin
  await sleep(request.warmupMs)
  latencies.length = 0
  const cpu = cpuMeter()
  const t0 = now()
  let sent = 0
  while (now() < t0 + request.durationMs) {
    out.set('ping', { t: now() })
    sent++
    await sleep(request.intervalMs)
  }
  // Late arrivals of the last pings still count.
  const deadline = now() + 3_000
  while (latencies.length < sent * request.clients && now() < deadline) await sleep(20)
  return { type: 'result', acked: 0, elapsedMs: now() - t0, latencies, expected: sent * request.clients, cpu: cpu(), errors: 0, firstError: null }
}

async function run(request: ScaleRun): Promise<ScaleMessage> {
  const clients: BenchClient[] = []
  try {
    const result = await (request.role === 'load' ? load(request, clients) : probe(request, clients))
    const errors = clients.flatMap((client) => client.errors)
    return result.type === 'result' ? { ...result, errors: errors.length, firstError: errors[0]?.message ?? null } : result
  } finally {
    await closeAll(clients)
  }
}

process.on('message', (message: ScaleRun | { type: 'go' } | { type: 'exit' }) => {
  if (message.type === 'exit') return void process.disconnect()
  if (message.type === 'go') return void go?.()
  run(message).then(send, (error: unknown) => send({ type: 'failed', message: String(error) }))
})
