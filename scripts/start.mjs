// `npm start`: installs npm dependencies when needed, builds the demo, and runs the relay
// (embedded store, or Redis when REDIS_URL or REDIS_HOST… is set), the dashboard's producer
// and the demo's static server in one process (demo/server.ts), and prints where to open it.
// Ctrl-C stops it.
//
//   npm start                                  relay on :8787 (PORT), demo on :5173 (DEMO_PORT, or the next free port)
//   REDIS_URL=redis://127.0.0.1:6379 npm start
//   REMEM_DEMO_PRODUCER=off npm start          without the dashboard's producer
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { ensureNpmDeps, root } from './ensure.mjs'

ensureNpmDeps()

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set()
let stopping = false

const demo = start(
  'demo',
  process.execPath,
  [
    '--conditions=@remem/source',
    '--import',
    'tsx',
    'demo/server.ts',
    '--build',
    '--port',
    process.env.PORT || '8787',
  ],
  { cwd: root },
)

// Both waits start now: the lines may come in one burst.
const relayLine = waitForLine(demo, /listening on (wss?:\/\/\S+) \(store: (\w+)/)
const demoLine = waitForLine(demo, /remem demo listening on (https?:\/\/\S+)/)

const relayMatch = await relayLine
if (!relayMatch) fail('the relay did not start; see its output above')
const relayUrl = reachable(relayMatch[1])
const store = relayMatch[2]

const demoMatch = await demoLine
if (!demoMatch) fail('the demo server did not start; see its output above')
const demoUrl = demoMatch[1].replace(/\/$/, '')

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
