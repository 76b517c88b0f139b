import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--notify-keyspace-events', 'KEA']`. */
  args?: string[]
  /**
   * Keep data across `kill()`/`restart()` (append-only file, fsync on every write).
   * @default false
   */
  persist?: boolean
}

/** A `redis-server` started for a test. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Its working directory (a fresh temp dir). */
  readonly dir: string
  /** Process id of the running server; `undefined` while stopped. */
  readonly pid: number | undefined
  /** Stops the server and removes its directory. */
  stop(): Promise<void>
  /** Kills the server with SIGKILL, as a crash would; `restart()` brings it back. */
  kill(): void
  /** Starts the server again on the same port and directory (killing it first if running). */
  restart(): Promise<void>
}

const running = new Set<ChildProcess>()
const dirs = new Set<string>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
}

function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return null
}

/** A port on 127.0.0.1 that was free a moment ago (e.g. for `--tls-port`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The process id of the redis-server answering on `port`, or null if none answers. */
async function serverPid(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const done = (pid: number | null): void => {
      socket.destroy()
      resolve(pid)
    }
    socket.setTimeout(500, () => done(null))
    socket.once('error', () => done(null))
    socket.once('connect', () => socket.write('INFO server\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.startsWith('-')) done(null)
      const match = /process_id:(\d+)/.exec(reply)
      if (match) done(Number(match[1]))
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Starts a throwaway `redis-server` on a free port in a temp dir, without persistence
 * unless `persist` is set, and resolves once it answers PING. Every server it starts is
 * killed when the test process exits, and dies with its parent where `setpriv` exists.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = findOnPath('redis-server')
  if (!binary) {
    throw new Error(
      'redis-server not found: run `npm test` (it installs it) or `apt-get install redis-server`',
    )
  }
  installExitHook()
  const setpriv = findOnPath('setpriv')
  let port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'remem-redis-'))
  dirs.add(dir)
  const persistence = options.persist
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no']
  const args = (): string[] => [
    ...['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', ''],
    ...persistence,
    ...['--daemonize', 'no', ...(options.args ?? [])],
  ]
  let child: ChildProcess | null = null

  const launch = async (): Promise<void> => {
    const output: string[] = []
    const started = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', binary, ...args()], { stdio: 'pipe' })
      : spawn(binary, args(), { stdio: 'pipe' })
    child = started
    running.add(started)
    started.once('exit', () => running.delete(started))
    started.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    started.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    const deadline = Date.now() + 10_000
    // Its own log says when it listens (also with --requirepass); otherwise ask for its pid,
    // since another test's server may have taken the port in the meantime.
    const ready = async (): Promise<boolean> =>
      output.join('').includes('Ready to accept connections') ||
      (await serverPid(port)) === started.pid
    while (!(await ready())) {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`redis-server exited on port ${port}:\n${output.join('')}`)
      }
      if (Date.now() > deadline) {
        started.kill('SIGKILL')
        throw new Error(`redis-server did not answer PING on port ${port}:\n${output.join('')}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  const halt = async (): Promise<void> => {
    const current = child
    child = null
    if (!current) return
    current.kill('SIGTERM')
    const timer = setTimeout(() => current.kill('SIGKILL'), 2000)
    await exited(current)
    clearTimeout(timer)
  }

  // The free port can be taken before redis-server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch()
      break
    } catch (error) {
      await halt()
      if (attempt < 3) {
        port = await freePort()
        continue
      }
      rmSync(dir, { recursive: true, force: true })
      dirs.delete(dir)
      throw error
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      const current = child as ChildProcess | null
      return current && current.exitCode === null && current.signalCode === null
        ? current.pid
        : undefined
    },
    async stop() {
      await halt()
      rmSync(dir, { recursive: true, force: true })
      dirs.delete(dir)
    },
    kill() {
      ;(child as ChildProcess | null)?.kill('SIGKILL')
    },
    async restart() {
      const current = child as ChildProcess | null
      if (current) {
        current.kill('SIGKILL')
        await exited(current)
      }
      child = null
      await launch()
    },
  }
}
