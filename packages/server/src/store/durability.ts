/**
 * How long an acknowledged update lasts on the Redis behind the relay. With neither an
 * append-only file nor a replica, an ack survives only as long as that Redis process.
 */
import type { Redis } from 'ioredis'

/** What one primary keeps: AOF on or off, and how many replicas are connected. */
export interface NodeDurability {
  node: string
  aof: boolean
  replicas: number
}

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

/** Reads AOF and replica counts from each primary (INFO persistence, INFO replication). */
export async function readDurability(primaries: Redis[]): Promise<NodeDurability[]> {
  return Promise.all(
    primaries.map(async (node) => {
      const [persistence, replication] = await Promise.all([node.info('persistence'), node.info('replication')])
      return {
        node: `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`,
        aof: field(persistence, 'aof_enabled') === '1',
        replicas: Number(field(replication, 'connected_slaves') ?? 0),
      }
    }),
  )
}

/**
 * A warning when some primary has neither AOF nor a replica, or has fewer replicas than
 * `ackReplicas` (acks would then wait for replicas that are not there); null when all is well.
 */
export function durabilityWarning(nodes: NodeDurability[], ackReplicas: number): string | null {
  const fewer = nodes.filter((node) => node.replicas < ackReplicas)
  if (fewer.length > 0) {
    return (
      `--ack-replicas ${ackReplicas} but ${fewer.map((node) => `${node.node} has ${node.replicas}`).join(', ')} ` +
      'connected replicas: appends there are not acknowledged until enough replicas connect'
    )
  }
  const fragile = nodes.filter((node) => !node.aof && node.replicas === 0)
  if (fragile.length === 0) return null
  return (
    `Redis at ${fragile.map((node) => node.node).join(', ')} has neither AOF (appendonly yes) nor replicas: ` +
    'an acknowledged update survives only as long as that Redis process. Turn on appendonly, or add ' +
    'replicas and start the relay with --ack-replicas 1'
  )
}

/** A pipeline that can end with `WAIT`. */
type WaitingPipeline = {
  wait(replicas: number, timeoutMs: number): unknown
  exec(): Promise<Array<[Error | null, unknown]> | null>
}

/** What {@link callThenWait} found: the call's error or reply, and the replicas holding it. */
export interface WaitedCall {
  error: Error | null
  reply: unknown
  /** Replicas that acknowledged the call within the timeout (0 when WAIT itself failed). */
  replicas: number
  waitError: Error | null
}

/**
 * Sends one command (`call` queues it on the pipeline) followed by `WAIT replicas timeoutMs`
 * on the same connection (a cluster pipeline stays on the command's slot), so that the reply
 * says whether the replicas hold what the command wrote.
 */
export async function callThenWait<Commands>(
  redis: { pipeline(): unknown },
  replicas: number,
  timeoutMs: number,
  call: (pipeline: Commands) => unknown,
): Promise<WaitedCall> {
  const pipeline = redis.pipeline() as Commands & WaitingPipeline
  void call(pipeline)
  pipeline.wait(replicas, timeoutMs)
  const [[error, reply] = [new Error('no reply'), null], [waitError, acknowledged] = [null, 0]] = (await pipeline.exec()) ?? []
  return { error, reply, replicas: waitError ? 0 : Number(acknowledged), waitError }
}
