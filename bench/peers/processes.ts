/**
 * The processes of the `peers` suite: servers and client groups forked with IPC, and the
 * CPU time of any process read from /proc (Linux), so that each figure can say which
 * process was saturated.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ClientCommand, ClientJob, ClientMessage, ServerKind, ServerMessage, ServerRequest } from './protocol.ts'

/** The flag that makes `@remem/*` resolve to their TypeScript sources (package.json `exports`). */
const SOURCE_CONDITION = '--conditions=@remem/source'

/**
 * Whether the suite's processes load remem as built (`dist/`, what npm users get), which is
 * the default; `--source` runs the TypeScript sources through tsx instead. Not the same
 * program: tsx compiles with esbuild's keepNames, which gives every function made at run time
 * (a closure per connection or per call) a `name` property of its own, worth a quarter of a
 * KB of heap each and a call to its helper.
 */
export function runsBuiltPackages(): boolean {
  return !process.argv.includes('--source')
}

/**
 * `--profile-clients=DIR`: every client group process runs under V8's CPU profiler and writes
 * its whole life's profile to DIR when it exits (open them in DevTools).
 */
function clientProfileFlags(): string[] {
  const dir = process.argv.find((arg) => arg.startsWith('--profile-clients='))?.slice('--profile-clients='.length)
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** CPU seconds (user + system) used so far by process `pid`; NaN if it cannot be read. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return Number.NaN
  }
}

/**
 * Read and write syscalls (`syscr`, `syscw` of /proc/<pid>/io: socket reads and writes
 * included) and context switches (voluntary + involuntary, all threads) of process `pid` so
 * far; NaNs if they cannot be read.
 */
export function syscallCounts(pid: number | undefined): { reads: number; writes: number; switches: number } {
  const none = { reads: Number.NaN, writes: Number.NaN, switches: Number.NaN }
  if (pid === undefined) return none
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
    let switches = 0
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8')
      switches += field(status, 'voluntary_ctxt_switches') + field(status, 'nonvoluntary_ctxt_switches')
    }
    return { reads: field(io, 'syscr'), writes: field(io, 'syscw'), switches }
  } catch {
    return none
  }
}

/** Every child not yet exited, so that `killAll` can end them if the suite is cut short. */
const live = new Set<ChildProcess>()

/** Kills (by their own handles) the children still running. */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
}

/** A child process speaking the suite's IPC messages, with a mailbox of what it sent. */
class Child<In extends { type: string }, Out extends { type: string }> {
  readonly process: ChildProcess
  private readonly mailbox: Out[] = []
  private waiter: (() => void) | null = null
  private exitError: Error | null = null
  private readonly exited: Promise<void>

  constructor(
    readonly label: string,
    entry: string,
    args: string[],
    execArgv: string[] = [],
  ) {
    this.process = fork(fileURLToPath(new URL(entry, import.meta.url)), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The parent's flags (--import tsx for the suite's own files) and any extra ones; remem
      // itself as built (see `runsBuiltPackages`).
      execArgv: [...process.execArgv.filter((arg) => runsBuiltPackages() === false || arg !== SOURCE_CONDITION), ...execArgv],
    })
    live.add(this.process)
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => {
        live.delete(this.process)
        this.exitError = new Error(`${label} exited (${signal ?? code})`)
        this.waiter?.()
        resolve()
      }),
    )
    this.process.on('message', (message: Out) => {
      this.mailbox.push(message)
      this.waiter?.()
    })
  }

  get pid(): number | undefined {
    return this.process.pid
  }

  send(message: In): void {
    this.process.send(message)
  }

  /** The next message of type `type` (earlier ones of other types are dropped); rejects on 'failed' or exit. */
  async next<T extends Out['type']>(type: T, timeoutMs = 300_000): Promise<Extract<Out, { type: T }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const message = this.mailbox.shift()
      if (message) {
        if (message.type === type) return message as Extract<Out, { type: T }>
        if (message.type === 'failed') throw new Error(`${this.label}: ${(message as unknown as { message: string }).message}`)
        continue
      }
      if (this.exitError) throw this.exitError
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.label}: no '${type}' within ${timeoutMs / 1000} s`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(timer)
          this.waiter = null
          resolve()
        }
      })
    }
  }

  /** Asks it to exit; kills it (by its own handle) after 5 s. */
  async stop(request: In): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    if (this.process.connected) this.process.send(request)
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(timer)
  }
}

/** A server process (serverProcess.ts). */
export class ServerProcess extends Child<ServerRequest, ServerMessage> {
  url = ''

  /** Forks and waits until it listens. */
  static async start(kind: ServerKind, redisUrl: string): Promise<ServerProcess> {
    const server = new ServerProcess(`${kind} server`, './serverProcess.ts', [kind, redisUrl], ['--expose-gc'])
    try {
      const ready = await server.next('ready', 60_000)
      server.url = `ws://127.0.0.1:${ready.port}`
      return server
    } catch (error) {
      await server.stop({ type: 'exit' })
      throw error
    }
  }

  /** RSS, heap used and the size of V8's young generation (new space), after a full GC. */
  async memory(): Promise<{ rss: number; heapUsed: number; youngGeneration: number }> {
    this.send({ type: 'memory' })
    return this.next('memory', 60_000)
  }

  /** Starts the CPU profiler, or stops it and writes the profile to `file`. */
  async profile(file?: string): Promise<void> {
    this.send(file ? { type: 'profile', action: 'stop', file } : { type: 'profile', action: 'start' })
    await this.next('profiled', 60_000)
  }

  close(): Promise<void> {
    return this.stop({ type: 'exit' })
  }
}

/** A client group process (clientProcess.ts) running one job. */
export class ClientGroup extends Child<ClientJob | ClientCommand, ClientMessage> {
  constructor(label: string, job: ClientJob) {
    super(label, './clientProcess.ts', [], clientProfileFlags())
    this.send(job)
  }

  close(): Promise<void> {
    return this.stop({ type: 'exit' })
  }
}
