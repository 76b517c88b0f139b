/**
 * The projection writes of all memories in one event-loop turn as one script call (issue 12,
 * "Relay hot path"; one Redis only: a cluster spreads keys over slots), as `AppendBatch` does
 * for appends. Each memory's bridge flushes on its own timer; with many memories that was one
 * pipeline each. Here the writes of a turn wait for its end (`atTurnEnd`, before the sockets are
 * uncorked) and go as one `rememProjectMany`, or as the plain project script when alone.
 *
 * Each write still gets its own outcome, as in a pipeline: `[error, result]`. A command that
 * fails for one write fails that write alone; a call that fails as a whole (connection lost,
 * timeout) fails every write of it, and each bridge keeps its keys dirty and retries.
 */
import type { Redis } from 'ioredis'
import { atTurnEnd } from '../turnEnd.ts'

/** One projection write: the projection key, the `proj` hash, and the project script's five arguments. */
export interface ProjectCall {
  keys: readonly [string, string]
  args: readonly [string, string, string, string, string]
}

/** What a pipeline gives per command: an error, or the script's result. */
export type ProjectOutcome = [Error | null, unknown]

export interface ProjectCommands {
  rememProject(valueKey: string, projKey: string, ...args: string[]): Promise<number>
  /** The first argument is the number of keys. */
  rememProjectMany(numberOfKeys: number, ...args: string[]): Promise<Array<[1, number] | [0, string]>>
}

interface Request {
  calls: readonly ProjectCall[]
  resolve: (outcomes: ProjectOutcome[]) => void
}

export class ProjectBatch {
  private requests: Request[] = []

  constructor(private readonly redis: Redis & ProjectCommands) {}

  /** Makes `calls` with the turn's other projection writes; resolves with one outcome per call. */
  project(calls: readonly ProjectCall[]): Promise<ProjectOutcome[]> {
    return new Promise((resolve) => {
      if (this.requests.length === 0) atTurnEnd(this.send, true)
      this.requests.push({ calls, resolve })
    })
  }

  private readonly send = (): void => {
    const requests = this.requests
    this.requests = []
    const calls = requests.flatMap((request) => request.calls)
    const settle = (outcomes: ProjectOutcome[]): void => {
      let at = 0
      for (const request of requests) {
        request.resolve(outcomes.slice(at, at + request.calls.length))
        at += request.calls.length
      }
    }
    const failAll = (error: unknown): void => {
      const failure = error instanceof Error ? error : new Error(String(error))
      settle(calls.map(() => [failure, null]))
    }
    if (calls.length === 1) {
      const [{ keys, args }] = calls as [ProjectCall]
      this.redis.rememProject(...keys, ...args).then((result) => settle([[null, result]]), failAll)
      return
    }
    const keys: string[] = []
    const args: string[] = []
    for (const call of calls) {
      keys.push(...call.keys)
      args.push(...call.args)
    }
    this.redis.rememProjectMany(keys.length, ...keys, ...args).then(
      (replies) =>
        settle(
          calls.map((_call, index): ProjectOutcome => {
            const reply = replies[index]
            if (!reply) return [new Error('the project script gave no reply for this write'), null]
            return reply[0] === 1 ? [null, reply[1]] : [new Error(reply[1]), null]
          }),
        ),
      failAll,
    )
  }
}
