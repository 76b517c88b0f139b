/**
 * The packed-tarball test (issue 10): every published package is packed, installed into a
 * fresh project in the OS temp directory (test/packaging/consumer.ts), and used there as a
 * new user would: plain `node` runs README.md's first example against `npx remem-relay`
 * started from the installed tarball; `tsc` with `strict` checks consumer files that use
 * every public export, once with moduleResolution `bundler` and once with `node16`; and a
 * small React app built by `vite build` renders a shared value in Chromium.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, extname, join } from 'node:path'
import { chromium } from '@playwright/test'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGES } from '../../scripts/packages.ts'
import { type Consumer, type Started, createConsumer, repoRoot, run, startUntil } from './consumer.ts'
import { exportedNames } from './exportedNames.ts'

const LISTENING = /remem relay listening on (ws:\/\/\S+)/
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
const vite = join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js')
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

let consumer: Consumer
let relay: Started

beforeAll(async () => {
  consumer = await createConsumer()
  console.log(`packaging: npm install of the tarballs took ${consumer.installSeconds.toFixed(1)} s in ${consumer.dir}`)
  relay = await startUntil('npx', ['--no', '--', 'remem-relay', '--port', '0', '--log-level', 'warn'], consumer.dir, LISTENING)
}, 360_000)

afterAll(async () => {
  await relay?.stop()
  consumer?.remove()
})

describe('installed from the tarballs', () => {
  it('installs every published package, and no TypeScript tooling', () => {
    const names = PACKAGES.map((pkg) => JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')).name as string)
    for (const name of names) expect(existsSync(join(consumer.dir, 'node_modules', name, 'package.json')), name).toBe(true)
    // The relay below runs without them: `remem-relay` is compiled JavaScript.
    expect(existsSync(join(consumer.dir, 'node_modules', 'typescript'))).toBe(false)
    expect(existsSync(join(consumer.dir, 'node_modules', 'tsx'))).toBe(false)
  })

  it('ships dist/ with declaration maps into the shipped sources, and no tests', () => {
    for (const name of consumer.tarballs.keys()) {
      const dir = join(consumer.dir, 'node_modules', name)
      expect(existsSync(join(dir, 'dist', 'index.js')), `${name}/dist/index.js`).toBe(true)
      expect(existsSync(join(dir, 'src', '__tests__')), `${name}/src/__tests__`).toBe(false)
      const maps = readdirSync(join(dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts.map'))
      expect(maps.length, `${name}: declaration maps in dist/`).toBeGreaterThan(0)
      // "Go to definition" lands in the package's TypeScript sources, which ship with it.
      const unresolved = maps.flatMap((map) => {
        const { sources } = JSON.parse(readFileSync(join(dir, 'dist', map), 'utf8')) as { sources: string[] }
        return sources.filter((source) => !existsSync(join(dir, 'dist', dirname(map), source))).map((source) => `${map} → ${source}`)
      })
      expect(unresolved, `${name}: declaration maps pointing at missing files`).toEqual([])
    }
  })

  it('`npx remem-relay --help` prints the usage', async () => {
    const { stdout } = await run('npx', ['--no', '--', 'remem-relay', '--help'], consumer.dir)
    expect(stdout).toMatch(/^Usage: remem-relay \[options\]/)
  })

  it("plain node runs README.md's first example against the installed relay", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    const first = /^```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1]
    expect(first, 'README.md has a ```ts example').toBeDefined()
    // The example is TypeScript-free JavaScript: save it as .mjs and run it with plain node.
    const file = join(consumer.dir, 'readme-example.mjs')
    writeFileSync(file, first!)
    const { stdout } = await run(process.execPath, [file], consumer.dir, { env: { REMEM_URL: relay.match } })
    expect(stdout.trim()).toBe('0.5')
  })

  it('a client given no WebSocket option uses globalThis.WebSocket (as on Node 22+)', async () => {
    const { stdout } = await run(process.execPath, ['shared.mjs', 'set', 'from globalThis.WebSocket'], consumer.dir, {
      env: { REMEM_URL: relay.match },
    })
    expect(stdout.trim()).toBe('set "from globalThis.WebSocket"')
  })
})

describe('types, as a TypeScript user sees them', () => {
  for (const resolution of ['bundler', 'node16']) {
    it(`tsc --strict passes with moduleResolution ${resolution}`, async () => {
      await run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], consumer.dir)
    })
  }

  it('the consumer files use every public export', () => {
    const fixtures = readdirSync(consumer.dir).filter((file) => /\.tsx?$/.test(file))
    const missing: string[] = []
    for (const name of consumer.tarballs.keys()) {
      const fixture = fixtures.find((file) => file.replace(/\.tsx?$/, '') === name.split('/').pop())
      if (fixture === undefined) {
        missing.push(`${name}: add test/packaging/consumer/${name.split('/').pop()}.ts using its exports`)
        continue
      }
      const source = readFileSync(join(consumer.dir, fixture), 'utf8')
      for (const exported of exportedNames(join(consumer.dir, 'node_modules', name))) {
        if (!new RegExp(`\\b${exported.name}\\b`).test(source)) missing.push(`${exported.specifier} ${exported.name} (in ${fixture})`)
      }
    }
    expect(missing, 'exports not used by test/packaging/consumer/*: use them there').toEqual([])
  })
})

describe('a Vite + React app', () => {
  let server: Server | undefined
  afterAll(() => server?.close())

  it('builds with vite and renders a shared value in Chromium', async () => {
    const outDir = join(consumer.dir, 'app-dist')
    await run(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], join(consumer.dir, 'app'))
    const built = readdirSync(join(outDir, 'assets')).filter((file) => file.endsWith('.js'))
    expect(built.length).toBeGreaterThan(0)

    await run(process.execPath, ['shared.mjs', 'set', 'hello from node'], consumer.dir, { env: { REMEM_URL: relay.match } })
    server = await serveStatic(outDir)
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      const { port } = server.address() as AddressInfo
      await page.goto(`http://127.0.0.1:${port}/?relay=${encodeURIComponent(relay.match)}`)
      await page.locator('#greeting', { hasText: 'hello from node' }).waitFor({ timeout: 20_000 })
      // And back: the browser writes, a Node client reads it.
      const reply = run(process.execPath, ['shared.mjs', 'wait-reply'], consumer.dir, {
        env: { REMEM_URL: relay.match },
        timeoutMs: 30_000,
      })
      await page.getByRole('button', { name: 'Reply' }).click()
      expect((await reply).stdout.trim()).toBe('reply "seen: hello from node"')
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  })
})

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

/** Serves `dir` on 127.0.0.1 (index.html for /). */
async function serveStatic(dir: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const file = join(dir, path === '/' ? 'index.html' : path)
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    response.end(readFileSync(file))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}
