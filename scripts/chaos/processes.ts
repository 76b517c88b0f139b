/**
 * The real processes of a chaos run: relays (the CLI, each always on its own port) and
 * client writers (writer.ts), with their output appended to files in the log directory.
 * Every process started here dies with the harness: SIGKILL on exit, and `setpriv
 * --pdeathsig` where it exists, so not even a SIGKILL of the harness leaves them behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, closeSync, constants, openSync, writeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/redisServer.ts'
import { relayRedisArgs } from './redisTarget.ts'
import type { WriterConfig, WriterReply } from './writer.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const cli = fileURLToPath(new URL('../../packages/server/src/cli.ts', import.meta.url))
const writerEntry = fileURLToPath(new URL('./writer.ts', import.meta.url))
const tracePreload = fileURLToPath(new URL('./traceRedisCommands.ts', import.meta.url))
const nodeArgs = ['--conditions=@remem/source', '--import', 'tsx']
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
})

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** SIGKILLs every process started here that is still running. */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL')
}

/**
 * Starts `node <args>` with the repository's source condition and tsx. Its output goes to
 * `logFile`: directly for 'ipc' (writers, which also get an IPC channel), through a pipe for
 * 'pipe' (relays, whose listening line the harness waits for).
 */
function launchNode(args: string[], logFile: string, mode: 'ipc' | 'pipe'): ChildProcess {
  const out = openSync(logFile, 'a')
  const command = setpriv ?? process.execPath
  const argv = setpriv ? ['--pdeathsig', 'SIGKILL', process.execPath, ...nodeArgs, ...args] : [...nodeArgs, ...args]
  const child = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: mode === 'ipc' ? ['ignore', out, out, 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  if (mode === 'pipe') {
    const append = (chunk: Buffer): void => void writeSync(out, chunk)
    child.stdout?.on('data', append)
    child.stderr?.on('data', append)
    child.once('close', () => closeSync(out))
  } else {
    closeSync(out)
  }
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

/** Appends a marker line to a process's log, so restarts and signals show in place. */
export function mark(logFile: string, line: string): void {
  const fd = openSync(logFile, 'a')
  writeSync(fd, `---- ${new Date().toISOString()} chaos: ${line}\n`)
  closeSync(fd)
}

/** How a process ended. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A relay that the fault loop stops and starts again on the same port. */
export class RelayProcess {
  private child: ChildProcess | null = null
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null })
  /** Set before the harness signals it, so that its exit is not reported as a crash. */
  private expected = false
  /** Starts and stops run one at a time (the fault loop and a crash restart may both ask). */
  private queue: Promise<unknown> = Promise.resolve()
  /** Starts that failed (it exited before listening), e.g. while Redis was down. */
  failedStarts = 0

  /** It listened once: clients know its port now, so it keeps it. */
  private listenedOnce = false

  constructor(
    readonly index: number,
    public port: number,
    private readonly redisUrl: string,
    readonly logFile: string,
    /** Called when the relay exits without the harness having signalled it. */
    private readonly onCrash: (relay: RelayProcess, exit: Exit) => void,
    /** Preload traceRedisCommands.ts (a diagnostic). */
    private readonly traceCommands = false,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * Starts it (unless it runs) and resolves once it prints its listening line; retries every
   * second while it exits at startup (e.g. Redis is down).
   */
  start(deadline = Date.now() + 120_000): Promise<void> {
    return this.serial(async () => {
      while (!this.child) {
        if (await this.startOnce()) {
          this.listenedOnce = true
          return
        }
        this.failedStarts++
        if (Date.now() > deadline) throw new Error(`relay ${this.index} did not start: see ${this.logFile}`)
        // Before its first start nobody knows its port: another process may have taken the
        // free port picked for it (several runs at once), so pick again.
        if (!this.listenedOnce) this.port = await freePort()
        await sleep(1000)
      }
    })
  }

  private async startOnce(): Promise<boolean> {
    mark(this.logFile, `starting relay ${this.index} on port ${this.port}`)
    const child = launchNode(
      [...(this.traceCommands ? ['--import', tracePreload] : []), cli, '--port', String(this.port), '--host', '127.0.0.1', ...relayRedisArgs(this.redisUrl), '--log-level', 'info'],
      this.logFile,
      'pipe',
    )
    this.expected = false
    let listening = false
    const listened = new Promise<boolean>((resolve) => {
      let seen = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        if (listening) return
        seen += chunk.toString()
        if (!seen.includes('remem relay listening on ')) return
        listening = true
        resolve(true)
      })
      child.once('exit', () => resolve(false))
      setTimeout(() => resolve(false), 30_000).unref()
    })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null
        mark(this.logFile, `relay ${this.index} exited (code ${code}, signal ${signal})`)
        if (listening && !this.expected) this.onCrash(this, { code, signal })
        resolve({ code, signal })
      })
    })
    if (await listened) {
      this.child = child
      return true
    }
    this.expected = true
    child.kill('SIGKILL')
    await this.exited
    return false
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`); says how it ended and whether it needed the SIGKILL. */
  stop(signal: NodeJS.Signals, timeoutMs = 10_000): Promise<Exit & { forced: boolean }> {
    return this.serial(async () => {
      const child = this.child
      if (!child) return { code: null, signal: null, forced: false }
      this.expected = true
      mark(this.logFile, `sending ${signal} to relay ${this.index}`)
      child.kill(signal)
      let forced = false
      const timer = setTimeout(() => {
        forced = true
        mark(this.logFile, `relay ${this.index} still running ${timeoutMs} ms after ${signal}: SIGKILL`)
        child.kill('SIGKILL')
      }, timeoutMs)
      const exit = await this.exited
      clearTimeout(timer)
      return { ...exit, forced }
    })
  }
}

/** A writer process (writer.ts) and its IPC channel. */
export class WriterProcess {
  private readonly child: ChildProcess
  private readonly waiting = new Map<string, Array<(reply: WriterReply) => void>>()
  readonly exited: Promise<Exit>
  /** Set before the harness kills it. */
  killed = false

  constructor(
    readonly config: WriterConfig,
    readonly logFile: string,
    onCrash: (writer: WriterProcess, exit: Exit) => void,
  ) {
    this.child = launchNode([writerEntry, JSON.stringify(config)], logFile, 'ipc')
    this.child.on('message', (reply: WriterReply) => {
      const queue = this.waiting.get(reply.type)
      queue?.shift()?.(reply)
    })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        if (!this.killed) onCrash(this, { code, signal })
        resolve({ code, signal })
      })
    })
  }

  get id(): string {
    return this.config.id
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** SIGKILLs it, as a crash of the client's machine would. */
  async kill(): Promise<void> {
    this.killed = true
    this.child.kill('SIGKILL')
    await this.exited
  }

  /** Sends `{ type }` and resolves with its reply of the same type (undefined after `timeoutMs` or if it died). */
  request<T extends WriterReply['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<WriterReply, { type: T }> | undefined> {
    if (!this.alive) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const queue = this.waiting.get(type) ?? []
      this.waiting.set(type, queue)
      let done = false
      const finish = (reply: WriterReply | undefined): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        resolve(reply as Extract<WriterReply, { type: T }> | undefined)
      }
      const timer = setTimeout(() => {
        const index = queue.indexOf(finish)
        if (index >= 0) queue.splice(index, 1)
        finish(undefined)
      }, timeoutMs)
      queue.push(finish)
      void this.exited.then(() => finish(undefined))
      this.child.send({ type })
    })
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
