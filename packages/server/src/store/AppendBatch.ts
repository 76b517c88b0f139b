/**
 * The appends of all memories in one event-loop turn as one script call (issue 12, "Relay
 * hot path"; one Redis only: a cluster spreads memories over slots).
 *
 * Each memory's room appends on its own, from the I/O callback of the client that wrote; with
 * many memories that was one `EVALSHA` each: a command built, written and answered per
 * memory. Here the requests of a turn wait for its end (`atTurnEnd`, before the sockets are
 * uncorked) and go as one `rememAppendMany`, or as the plain append script when alone.
 *
 * Each request still settles on its own reply: a memory in another epoch rejects with
 * `EPOCH <n>` alone, and a memory whose keys make a command fail (a key of the wrong type)
 * rejects with that error alone; the others of the call are appended. A call that fails as a whole
 * (connection lost, timeout, script error) rejects every request of it, and their rooms
 * retry before acknowledging anything. Appends of one memory keep their order: requests are
 * sent, and appended by the script, in the order they were made.
 */
import type { Redis } from 'ioredis'
import { atTurnEnd } from '../turnEnd.ts'

/** `[prevId, xlen, id...]`, as the append script returns it. */
export type AppendReply = [string, number, ...string[]]

export interface AppendCommands {
  rememAppend(...args: Array<string | Buffer>): Promise<AppendReply>
  /** The first argument is the number of keys. */
  rememAppendMany(
    numberOfKeys: number,
    ...args: Array<string | Buffer>
  ): Promise<Array<[1, string, number, ...string[]] | [0, number] | [2, string]>>
}

interface Request {
  keys: readonly [string, string, string]
  channel: string
  relayId: string
  epoch: string
  updates: Buffer[]
  resolve: (reply: AppendReply) => void
  reject: (error: unknown) => void
}

export class AppendBatch {
  private requests: Request[] = []

  constructor(private readonly redis: Redis & AppendCommands) {}

  /**
   * Appends `updates` to the memory of `keys` (log, snapshot, epoch) with the turn's other
   * appends. Rejects with the script's `EPOCH <n>` error when the memory is in another epoch.
   */
  append(keys: readonly [string, string, string], channel: string, relayId: string, epoch: string, updates: Buffer[]): Promise<AppendReply> {
    return new Promise((resolve, reject) => {
      if (this.requests.length === 0) atTurnEnd(this.send, true)
      this.requests.push({ keys, channel, relayId, epoch, updates, resolve, reject })
    })
  }

  private readonly send = (): void => {
    const requests = this.requests
    this.requests = []
    if (requests.length === 1) {
      const [{ keys, channel, relayId, epoch, updates, resolve, reject }] = requests as [Request]
      this.redis.rememAppend(...keys, channel, relayId, epoch, ...updates).then(resolve, reject)
      return
    }
    const keys: string[] = []
    const args: Array<string | Buffer> = []
    for (const request of requests) {
      keys.push(...request.keys)
      args.push(request.channel, request.relayId, request.epoch, String(request.updates.length), ...request.updates)
    }
    this.redis.rememAppendMany(keys.length, ...keys, ...args).then(
      (replies) => {
        for (const [index, request] of requests.entries()) {
          const reply = replies[index]
          if (!reply) request.reject(new Error('the append script gave no reply for this memory'))
          else if (reply[0] === 0) request.reject(new Error(`EPOCH ${reply[1]}`))
          else if (reply[0] === 2) request.reject(new Error(reply[1]))
          else request.resolve(reply.slice(1) as AppendReply)
        }
      },
      (error: unknown) => {
        for (const request of requests) request.reject(error)
      },
    )
  }
}
