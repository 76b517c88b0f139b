/** Runs the `remem-relay` bin as a child process, the way a user starts it. */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../packages/server/bin/remem-relay.js', import.meta.url))

/** A `remem-relay` process that printed its listening line. */
export interface CliRelay {
  /** `ws://127.0.0.1:<port>`, from the listening line. */
  readonly url: string
  /** The listening line. */
  readonly line: string
  /** Everything it printed on stdout and stderr so far. */
  output(): { stdout: string; stderr: string }
  /** Sends SIGTERM and waits for it to exit (SIGKILL after 5 s); resolves with the exit code. */
  stop(): Promise<number | null>
}

/** How a `remem-relay` process ended. */
export interface CliExit {
  code: number | null
  stdout: string
  stderr: string
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function launch(
  args: string[],
  env: Record<string, string>,
): {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
} {
  // Only PATH from this process: the relay sees exactly the variables a test gives it.
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      running.delete(child)
      resolve(code)
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/**
 * Starts `remem-relay <args>` with `env` (and PATH) and resolves once it prints its
 * listening line; rejects with its output if it exits first or takes over `timeoutMs`.
 */
export async function startCliRelay(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliRelay> {
  const { child, stdout, stderr, exited } = launch(args, env)
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = /^remem relay listening on (ws:\/\/\S+).*$/m.exec(stdout())
    if (line) {
      return {
        url: line[1]!,
        line: line[0],
        output: () => ({ stdout: stdout(), stderr: stderr() }),
        stop,
      }
    }
    const ended = child.exitCode !== null || child.signalCode !== null
    if (ended || Date.now() > deadline) {
      const code = await stop()
      throw new Error(
        `remem-relay ${ended ? `exited with ${code}` : `printed no listening line in ${timeoutMs} ms`}\n` +
          `stdout: ${stdout()}\nstderr: ${stderr()}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Runs `remem-relay <args>` with `env` until it exits (killed after `timeoutMs`). */
export async function runCliRelay(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliExit> {
  const { child, stdout, stderr, exited } = launch(args, env)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await exited
  clearTimeout(timer)
  return { code, stdout: stdout(), stderr: stderr() }
}
