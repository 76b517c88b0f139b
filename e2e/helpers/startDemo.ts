import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The demo server (demo/server.ts): relay, producer and the built app, on free ports. */
export interface Demo {
  /** The demo page, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** The relay the page connects to, e.g. `ws://127.0.0.1:41235`. */
  relayUrl: string
  /** Everything the server printed so far, for failure messages. */
  output(): string
  /** Stops the server gracefully (relay, producer, static files). */
  stop(): Promise<void>
}

export interface StartDemoOptions {
  /** Redis for the relay; without it the relay uses its embedded store. */
  redis?: string
  /** Redis key prefix. @default 'memory:' */
  prefix?: string
  /** Run the dashboard's producer. Off for tests that need to know what `cpu` holds. @default true */
  producer?: boolean
  /** How long to wait for the server to come up. @default 30000 */
  timeoutMs?: number
  /** More relay flags, e.g. `['--secret', s, '--inspect']`. */
  relayArgs?: string[]
}

/**
 * Starts `demo/server.ts` with the relay and the static server on port 0. It serves the
 * build that e2e/globalSetup.ts made (`REMEM_DEMO_DIST`), or builds one itself without it.
 */
export async function startDemo(options: StartDemoOptions = {}): Promise<Demo> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const log: string[] = []
  let ownDist: string | null = null
  let dist = process.env.REMEM_DEMO_DIST
  const args = ['--port', '0', '--demo-port', '0', '--host', '127.0.0.1']
  if (dist === undefined) {
    dist = ownDist = mkdtempSync(join(tmpdir(), 'remem-demo-build-'))
    args.push('--build')
  }
  args.push('--dist', dist)
  if (options.redis !== undefined) args.push('--redis', options.redis)
  if (options.prefix !== undefined) args.push('--prefix', options.prefix)
  args.push('--producer', options.producer === false ? 'off' : 'on')
  if (options.relayArgs) args.push(...options.relayArgs)
  const server = launch(
    'demo',
    ['--conditions=@remem/source', '--import', 'tsx', 'demo/server.ts', ...args],
    root,
    log,
  )
  const stop = async (): Promise<void> => {
    await stopProcess(server.child)
    if (ownDist !== null) rmSync(ownDist, { recursive: true, force: true })
  }
  try {
    const relayLine = waitForLine(server, /listening on (ws:\/\/\S+) \(store/, timeoutMs, log)
    const demoLine = waitForLine(server, /remem demo listening on (http:\/\/\S+)/, timeoutMs, log)
    const [relayMatch, demoMatch] = await Promise.all([relayLine, demoLine])
    const relayUrl = relayMatch[1]!
    const url = demoMatch[1]!.replace(/\/$/, '')
    return { url, relayUrl, output: () => log.join('\n'), stop }
  } catch (error) {
    await stop()
    throw error
  }
}

interface Launched {
  child: ChildProcess
  /** Calls `listener` with every later output line (stdout and stderr); returns an unsubscribe. */
  onLine(listener: (line: string) => void): () => void
}

function launch(name: string, args: string[], cwd: string, log: string[]): Launched {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const listeners = new Set<(line: string) => void>()
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.push(`[${name}] ${line}`)
      for (const listener of listeners) listener(line)
    })
  }
  return {
    child,
    onLine(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

function waitForLine(
  { child, onLine }: Launched,
  pattern: RegExp,
  timeoutMs: number,
  log: string[],
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      child.off('close', onClose)
      off()
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${log.join('\n')}`))
    }, timeoutMs)
    const onClose = (code: number | null) => {
      done()
      reject(new Error(`process exited (${code}) before printing ${pattern}:\n${log.join('\n')}`))
    }
    child.on('close', onClose)
    const off = onLine((line) => {
      // eslint-disable-next-line no-control-regex
      const match = pattern.exec(line.replace(/\u001b\[[0-9;]*m/g, ''))
      if (match) {
        done()
        resolve(match)
      }
    })
  })
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
