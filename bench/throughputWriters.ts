/**
 * The writing clients of the `throughput` suite, in a process of their own (forked by
 * throughput.ts) so that they do not share the relay's event loop. Each run opens N clients
 * on one memory; client i writes `mem.set('k' + i, n)` in a loop, awaiting `whenSynced()`
 * after every `window` writes, so at most `window` updates per client are un-acknowledged.
 */
import { type BenchClient, closeAll, connect, cpuMeter, now, whenOnline } from './lib.ts'
import type { Memory } from '@remem/client'

export interface WritersRun {
  type: 'run'
  url: string
  memory: string
  clients: number
  window: number
  warmupMs: number
  durationMs: number
}

export type WritersMessage =
  | { type: 'measuring' }
  | { type: 'measured' }
  | {
      type: 'result'
      /** Updates acknowledged by the relay in the measured phase. */
      acked: number
      /** From the start of the measured phase to the last acknowledgement in it. */
      elapsedMs: number
      /** CPU used by this process during the measured phase, as a share of one core. */
      cpu: number
      errors: number
      firstError: string | null
    }
  | { type: 'failed'; message: string }

function send(message: WritersMessage): void {
  process.send?.(message)
}

/** Writes until `durationMs` has passed; returns acked updates and when the last ack came. */
async function phase(memories: Memory[], window: number, durationMs: number): Promise<{ acked: number; elapsedMs: number }> {
  const start = now()
  const end = start + durationMs
  let lastAck = start
  const counts = await Promise.all(
    memories.map(async (memory, index) => {
      const key = `k${index}`
      let acked = 0
      let value = 0
      while (now() < end) {
        for (let j = 0; j < window; j++) memory.set(key, value++)
        await memory.whenSynced()
        acked += window
        lastAck = Math.max(lastAck, now())
      }
      return acked
    }),
  )
  return { acked: counts.reduce((a, b) => a + b, 0), elapsedMs: lastAck - start }
}

async function run(request: WritersRun): Promise<WritersMessage> {
  const clients: BenchClient[] = []
  try {
    for (let i = 0; i < request.clients; i++) clients.push(connect(request.url))
    const memories = clients.map((client) => client.memory(request.memory))
    await Promise.all(memories.map((memory) => whenOnline(memory)))
    await phase(memories, request.window, request.warmupMs)
    send({ type: 'measuring' })
    const cpu = cpuMeter()
    const { acked, elapsedMs } = await phase(memories, request.window, request.durationMs)
    const cpuShare = cpu()
    send({ type: 'measured' })
    const errors = clients.flatMap((client) => client.errors)
    return {
      type: 'result',
      acked,
      elapsedMs,
      cpu: cpuShare,
      errors: errors.length,
      firstError: errors[0]?.message ?? null,
    }
  } finally {
    // Closed before the result goes out, so the next run starts on a quiet relay.
    await closeAll(clients)
  }
}

process.on('message', (message: WritersRun | { type: 'exit' }) => {
  if (message.type === 'exit') {
    process.disconnect()
    return
  }
  run(message).then(send, (error: unknown) => send({ type: 'failed', message: String(error) }))
})
