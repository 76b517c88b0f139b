/**
 * The README's first command: `npm start` runs the relay on the embedded store plus the
 * demo, prints the URL to open, and a Node client can use the relay.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { connect, eventually } from './helpers.ts'
import { freePort } from './relayProcess.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

it('npm start serves the relay on the embedded store and the demo, and prints the URL', async () => {
  const [relayPort, demoPort] = [await freePort(), await freePort()]
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(relayPort), DEMO_PORT: String(demoPort) }
  delete env.REDIS_URL
  delete env.REDIS_HOST
  const npm = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()))
  stops.push(async () => {
    process.kill(-npm.pid!, 'SIGTERM')
    await exited
  })

  const printed = await eventually(
    () => {
      const match = /remem demo: (http:\/\/\S+)\s+\(relay (ws:\/\/\S+), store: (\w+)\)/.exec(output)
      if (!match) throw new Error(`no URL printed yet:\n${output}`)
      return { demo: match[1]!, relay: match[2]!, store: match[3]! }
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  )
  expect(printed.store).toBe('embedded')
  expect(printed.relay).toBe(`ws://127.0.0.1:${relayPort}`)
  const page = await fetch(printed.demo)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('<div id="root">')

  const client = connect(printed.relay)
  try {
    const mem = client.memory('npm-start')
    mem.set('hello', 'world')
    await mem.whenSynced()
    expect(mem.status.pending).toBe(0)
  } finally {
    await client.close()
  }
}, 90_000)
