/**
 * The offline test page: `fixtures/offline.ts` bundled with esbuild from the client's
 * sources, served with `offline.html` and the caching service worker `sw.js` by a small
 * static server, next to a relay started through the `remem-relay` CLI (embedded store).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type * as Esbuild from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const fixtures = join(root, 'e2e', 'fixtures')

export interface OfflineFixture {
  /** The page URL for memory `memory`, e.g. `http://127.0.0.1:4123/offline.html?relay=…&memory=…`. */
  pageUrl(memory: string): string
  relayUrl: string
  /** Everything the relay printed, for failure messages. */
  output(): string
  stop(): Promise<void>
}

/** esbuild, as installed for Vite (the demo's dev dependency). */
async function loadEsbuild(): Promise<typeof Esbuild> {
  const fromDemo = createRequire(join(root, 'demo', 'package.json'))
  const fromVite = createRequire(fromDemo.resolve('vite/package.json'))
  return (await import(fromVite.resolve('esbuild'))) as typeof Esbuild
}

async function bundle(): Promise<string> {
  const esbuild = await loadEsbuild()
  const result = await esbuild.build({
    entryPoints: [join(fixtures, 'offline.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@remem/source'],
    write: false,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error('esbuild produced no bundle for e2e/fixtures/offline.ts')
  return output.text
}

export async function startOfflineFixture(): Promise<OfflineFixture> {
  const log: string[] = []
  const relay = await startRelayProcess(log)
  let server: Server | null = null
  try {
    const files: Record<string, { type: string; body: string }> = {
      '/offline.html': {
        type: 'text/html',
        body: readFileSync(join(fixtures, 'offline.html'), 'utf8'),
      },
      '/offline.js': { type: 'text/javascript', body: await bundle() },
      '/sw.js': { type: 'text/javascript', body: readFileSync(join(fixtures, 'sw.js'), 'utf8') },
    }
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname
      const file = files[path]
      if (!file) {
        response.writeHead(404).end('not found')
        return
      }
      response
        .writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' })
        .end(file.body)
    })
    const listening = server
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve))
    const address = listening.address()
    const port = typeof address === 'object' && address ? address.port : 0
    return {
      relayUrl: relay.url,
      pageUrl: (memory) =>
        `http://127.0.0.1:${port}/offline.html?relay=${encodeURIComponent(relay.url)}&memory=${encodeURIComponent(memory)}`,
      output: () => log.join('\n'),
      stop: async () => {
        listening.closeAllConnections()
        await new Promise((resolve) => listening.close(resolve))
        await relay.stop()
      },
    }
  } catch (error) {
    server?.close()
    await relay.stop()
    throw error
  }
}

/** The relay CLI on port 0; resolves with its URL once it listens. */
async function startRelayProcess(log: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'remem-e2e-'))
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'packages/server/bin/remem-relay.js'), '--port', '0', '--host', '127.0.0.1'],
    { cwd: dataDir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the relay did not start:\n${log.join('\n')}`)),
        30_000,
      )
      child.once('exit', (code) =>
        reject(new Error(`the relay exited (${code}):\n${log.join('\n')}`)),
      )
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue
        createInterface({ input: stream }).on('line', (line) => {
          log.push(line)
          const match = /listening on (ws:\/\/\S+)/.exec(line)
          if (match?.[1]) {
            clearTimeout(timer)
            resolve(match[1])
          }
        })
      }
    })
    return { url, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
