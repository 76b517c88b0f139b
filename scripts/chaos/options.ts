/** Command-line options of `npm run chaos`. */
import { parseArgs } from 'node:util'

export interface ChaosOptions {
  seed: number
  /** How long the writers write and the faults run. */
  seconds: number
  relays: number
  writers: number
  memories: number
  /** Upper bound of the settle phase after the faults stop. */
  settleSeconds: number
  /** Inject a fake loss after settling; the run must then FAIL. */
  selfTest: boolean
  /** Keep the log directory of a passing run too. */
  keepLogs: boolean
  /** Run the writers without the fault loop (to tell a fault's effect from a plain bug). */
  noFaults: boolean
  /** Only these fault kinds (all when absent), to narrow a failure down. */
  faults?: string[]
  /** Relays record where each Redis command was sent from (see traceRedisCommands.ts). */
  traceRedisCommands: boolean
  /**
   * Run on a Redis Cluster (3 primaries, 3 replicas) instead of one redis-server: relays get
   * `--redis-cluster` and `--ack-replicas 1`, and the fault loop kills primaries.
   */
  cluster: boolean
}

export const USAGE = `usage: npm run chaos -- [--seed N] [--seconds S] [--relays 2] [--writers 4]
                      [--memories 2] [--settle-seconds 60] [--self-test] [--keep-logs] [--no-faults]
                      [--faults relayKill,relayTerm,redisKill,redisPause,pubsubKill,writerKill,
                               relayKillWhileRedisDown, primaryKill (with --cluster)]
                      [--trace-redis-commands] [--cluster]`

/** Parses argv; throws an Error whose message says what to change. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      seconds: { type: 'string' },
      relays: { type: 'string' },
      writers: { type: 'string' },
      memories: { type: 'string' },
      'settle-seconds': { type: 'string' },
      'self-test': { type: 'boolean' },
      'keep-logs': { type: 'boolean' },
      'no-faults': { type: 'boolean' },
      faults: { type: 'string' },
      'trace-redis-commands': { type: 'boolean' },
      cluster: { type: 'boolean' },
    },
  })
  const int = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback
    const value = Number(text)
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${text}`)
    return value
  }
  return {
    seed: int('seed', values.seed, 1, 0),
    seconds: int('seconds', values.seconds, 60, 1),
    relays: int('relays', values.relays, 2, 1),
    writers: int('writers', values.writers, 4, 1),
    memories: int('memories', values.memories, 2, 1),
    settleSeconds: int('settle-seconds', values['settle-seconds'], 60, 5),
    selfTest: values['self-test'] ?? false,
    keepLogs: values['keep-logs'] ?? false,
    noFaults: values['no-faults'] ?? false,
    traceRedisCommands: values['trace-redis-commands'] ?? false,
    cluster: values.cluster ?? false,
    ...(values.faults === undefined ? {} : { faults: values.faults.split(',').filter(Boolean) }),
  }
}
