import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A relay and the demo's Vite dev server, both on free ports. */
export interface Demo {
  /** The demo page, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** The relay the page connects to, e.g. `ws://127.0.0.1:41235`. */
  relayUrl: string
  /** Everything both processes printed so far, for failure messages. */
  output(): string
  /** Stops the relay (gracefully) and Vite. */
  stop(): Promise<void>
}

export interface StartDemoOptions {
  /** Redis for the relay; without it the relay uses its embedded store. */
  redis?: string
  /** Redis key prefix. @default 'memory:' */
  prefix?: string
  /** How long to wait for each process to come up. @default 30000 */
  timeoutMs?: number
}

/**
 * Starts a relay through the `remem-relay` CLI on port 0, then the demo's Vite dev server on
 * a free port with `VITE_REMEM_URL` pointing at that relay.
 */
export async function startDemo(options: StartDemoOptions = {}): Promise<Demo> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const log: string[] = []
  const started: ChildProcess[] = []
  const stop = async () => {
    await Promise.all(started.map((child) => stopProcess(child)))
  }
  try {
    const relayArgs = ['--port', '0', '--host', '127.0.0.1']
    if (options.redis !== undefined) relayArgs.push('--redis', options.redis)
    if (options.prefix !== undefined) relayArgs.push('--prefix', options.prefix)
    const relay = launch(
      'relay',
      join(root, 'packages/server/bin/remem-relay.js'),
      relayArgs,
      root,
      {},
      log,
    )
    started.push(relay.child)
    const relayUrl = (await waitForLine(relay, /listening on (ws:\/\/\S+)/, timeoutMs, log))[1]!

    const port = await freePort()
    const viteBin = join(
      dirname(createRequire(join(root, 'demo/package.json')).resolve('vite/package.json')),
      'bin/vite.js',
    )
    const vite = launch(
      'vite',
      viteBin,
      ['--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      join(root, 'demo'),
      { VITE_REMEM_URL: relayUrl },
      log,
    )
    started.push(vite.child)
    const url = (await waitForLine(vite, /Local:\s+(http:\/\/\S+)/, timeoutMs, log))[1]!.replace(
      /\/$/,
      '',
    )
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

function launch(
  name: string,
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  log: string[],
): Launched {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}
