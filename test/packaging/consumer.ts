/**
 * A fresh npm project outside the repository with the packed packages installed, as a new
 * user would have it: `npm pack` of every package in scripts/packages.ts, then
 * `npm install <tarballs> react react-dom ws` (+ @types packages for the type checks) from
 * the registry. No TypeScript tooling is installed there: the type checks and the Vite build
 * use the repository's `tsc` and `vite` with the consumer directory as their project.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PACKAGES } from '../../scripts/packages.ts'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const fixtures = fileURLToPath(new URL('./consumer/', import.meta.url))

/** What the consumer installs from the registry besides the tarballs. */
const REGISTRY_DEPS = ['react', 'react-dom', 'ws', '@types/react', '@types/react-dom', '@types/ws', '@types/node']

/**
 * The environment for commands run in the consumer: without the `npm_*` variables that
 * `npm test` sets (npm_config_local_prefix would point npm back at the repository), and
 * without the repository's directories on PATH (its node_modules/.bin has tsc and tsx).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'NODE_OPTIONS' && !key.startsWith('VITEST')) env[key] = value
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !dir.startsWith(repoRoot.replace(/\/$/, '')))
    .join(delimiter)
  return { ...env, ...extra }
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export async function run(
  command: string,
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, {
      cwd,
      env: cleanEnv(options.env),
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 32 * 1024 * 1024,
    })
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string }
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}: ${failure.message}\n` +
        `stdout: ${failure.stdout ?? ''}\nstderr: ${failure.stderr ?? ''}`,
    )
  }
}

export interface Consumer {
  /** The project directory (in the OS temp directory). */
  dir: string
  /** Package name → the tarball `npm pack` wrote. */
  tarballs: Map<string, string>
  /** Seconds that `npm install` took. */
  installSeconds: number
  /** Deletes the directory. */
  remove(): void
}

/** Packs every published package and installs the tarballs into a new project. */
export async function createConsumer(): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), 'remem-consumer-'))
  const tarballs = new Map<string, string>()
  for (const pkg of PACKAGES) {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], join(repoRoot, pkg.dir))
    const [packed] = JSON.parse(stdout) as Array<{ name: string; filename: string }>
    if (!packed) throw new Error(`npm pack printed no file for ${pkg.dir}`)
    tarballs.set(packed.name, join(dir, packed.filename))
  }
  cpSync(fixtures, dir, { recursive: true })
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'remem-consumer', private: true, type: 'module' }, null, 2) + '\n',
  )
  const started = performance.now()
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.values(), ...REGISTRY_DEPS],
    dir,
    { timeoutMs: 300_000 },
  )
  const installSeconds = (performance.now() - started) / 1000
  return { dir, tarballs, installSeconds, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The version npm installed in the consumer for `name`. */
export function installedVersion(consumer: Consumer, name: string): string {
  const manifest = JSON.parse(readFileSync(join(consumer.dir, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string
  }
  return manifest.version
}

/** A process started in the consumer that prints a line matching `ready`. */
export interface Started {
  child: ChildProcess
  /** The first capture group of `ready`. */
  match: string
  output(): string
  stop(): Promise<void>
}

/** Process groups started by {@link startUntil} and not stopped yet: killed if this process exits. */
const running = new Set<(signal: NodeJS.Signals) => void>()
process.once('exit', () => {
  for (const signalGroup of running) signalGroup('SIGKILL')
})

/** Starts `command args` in `cwd` (its own process group) and resolves once its output matches `ready`. */
export async function startUntil(
  command: string,
  args: string[],
  cwd: string,
  ready: RegExp,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Started> {
  // Its own process group: `npx` runs the command as a child of its own, and stop() must
  // end both (the grandchild holds the output pipes open).
  const child = spawn(command, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // the group is gone already
    }
  }
  running.add(signalGroup)
  const stop = async (): Promise<void> => {
    signalGroup('SIGTERM')
    const timer = setTimeout(() => signalGroup('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    running.delete(signalGroup)
  }
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`${command} ${args.join(' ')} did not print ${ready} in ${timeoutMs} ms:\n${output}`)))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const found = ready.exec(output)
      if (found) {
        clearTimeout(timer)
        resolve({ child, match: found[1] ?? found[0], output: () => output, stop })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('close', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before printing ${ready}:\n${output}`))
    })
  })
}
