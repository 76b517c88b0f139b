// `npm start`: installs npm dependencies when needed, starts the relay (embedded store, or
// Redis when REDIS_URL or REDIS_HOST… is set) and the demo's Vite dev server, and prints where
// to open it. Ctrl-C stops both; if either one stops, so does the other.
//
//   npm start                                  relay on :8787 (PORT), demo on :5173 (or the next free port)
//   REDIS_URL=redis://127.0.0.1:6379 npm start
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { ensureNpmDeps, root } from './ensure.mjs'

ensureNpmDeps()

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set()
let stopping = false

const relay = start(
  'relay',
  process.execPath,
  [
    '--conditions=@remem/source',
    '--import',
    'tsx',
    'packages/server/src/cli.ts',
    '--port',
    process.env.PORT || '8787',
  ],
  { cwd: root },
)

const relayLine = await waitForLine(relay, /listening on (wss?:\/\/\S+) \(store: (\w+)/)
if (!relayLine) fail('the relay did not start; see its output above')
const relayUrl = reachable(relayLine[1])
const store = relayLine[2]

const viteBin = join(
  dirname(createRequire(join(root, 'demo', 'package.json')).resolve('vite/package.json')),
  'bin',
  'vite.js',
)
const vite = start(
  'demo',
  process.execPath,
  [viteBin, '--host', '127.0.0.1', '--port', process.env.DEMO_PORT || '5173'],
  {
    cwd: join(root, 'demo'),
    env: { VITE_REMEM_URL: relayUrl },
  },
)

const viteLine = await waitForLine(vite, /Local:\s+(https?:\/\/\S+)/)
if (!viteLine) fail('the demo dev server did not start; see its output above')
const demoUrl = viteLine[1].replace(/\/$/, '')

console.log(`\nremem demo: ${demoUrl}  (relay ${relayUrl}, store: ${store})\n`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) {
      for (const child of children) child.kill('SIGKILL')
      process.exit(1)
    }
    stopping = true
    console.log(`\nremem: stopping (press Ctrl-C again to force)`)
    for (const child of children) child.kill(signal)
  })
}

/**
 * Spawns a child in its own process group (so a terminal's Ctrl-C reaches it once, from
 * here), prefixes its output lines with `name`, and stops everything when it exits.
 */
function start(name, command, args, { cwd, env = {} }) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  children.add(child)
  const label = `[${name}]`.padEnd(8)
  child.lines = []
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    createInterface({ input: stream }).on('line', (line) => {
      out.write(`${label}${line}\n`)
      for (const listener of child.lines) listener(line)
    })
  }
  child.on('error', (error) => fail(`could not start ${name}: ${error.message}`))
  child.on('close', (code, signal) => {
    children.delete(child)
    if (!stopping) {
      stopping = true
      console.error(`remem: ${name} exited (${signal ?? `code ${code}`}); stopping`)
      for (const other of children) other.kill('SIGTERM')
      process.exitCode = code || 1
    }
    if (children.size === 0) process.exit()
  })
  return child
}

/** Resolves with the first output line matching `pattern`, or null when the child exits first. */
function waitForLine(child, pattern) {
  return new Promise((resolve) => {
    child.lines.push((line) => {
      const match = pattern.exec(stripAnsi(line))
      if (match) resolve(match)
    })
    child.once('close', () => resolve(null))
  })
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

/** A relay listening on every interface is reached through loopback. */
function reachable(url) {
  return url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:')
}

function fail(message) {
  console.error(`remem: ${message}`)
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  process.exit(1)
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})
