/**
 * The demo in one process: the relay (embedded store, or Redis as configured by REDIS_URL
 * and friends, exactly as `remem-relay`), the dashboard's producer writing into that store,
 * and a static server for the demo's production build with its service worker.
 *
 *   node --conditions=@remem/source --import tsx demo/server.ts [relay flags] [demo flags]
 *
 * Relay flags and variables: as `remem-relay --help` (--port/PORT, --host/HOST, --redis/
 * REDIS_URL, --prefix/REDIS_PREFIX, …). Demo flags:
 *   --demo-port <n>          env DEMO_PORT, default 5173 (the next free one if taken and not given)
 *   --dist <dir>             the build to serve; env REMEM_DEMO_DIST, default demo/dist
 *   --build                  run `vite build` first (`npm start` does): into --dist when
 *                            given, else into a fresh temporary directory, removed on exit,
 *                            so that two demos started at once never share one
 *   --producer on|off        env REMEM_DEMO_PRODUCER, default on
 *   --producer-ms <n>        env REMEM_DEMO_PRODUCER_MS, default 500
 *
 * Prints `remem relay listening on ws://… (store: …, prefix …)` like the CLI, then
 * `remem demo listening on http://…`. SIGINT/SIGTERM stop it gracefully.
 *
 * Why the build and not Vite's dev server: the offline form must reload without a network,
 * so a service worker caches the page and its assets. A build has a fixed, hashed set of
 * files to precache; the dev server serves hundreds of on-demand modules and its client
 * reloads the page when it loses its own server, which fights an offline reload.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import type { AddressInfo } from 'node:net'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type RelayHandle, createRelay } from '@remem/server'
import { Redis } from 'ioredis'
import { CliUsageError, parseCliArgs } from '../packages/server/src/cliArgs.ts'
import { describeRedis } from '../packages/server/src/redisConfig.ts'
import type { EmbeddedStore } from '../packages/server/src/store/EmbeddedStore.ts'
import { ioredisArguments } from '../packages/server/src/store/redisUrl.ts'
import {
  type Producer,
  type ProducerTarget,
  projectionTarget,
  redisTarget,
  startProducer,
} from './producer.ts'

const demoDir = dirname(fileURLToPath(import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
}

interface DemoOptions {
  demoPort: number
  /** Whether the port was asked for (then it must be that one). */
  strictPort: boolean
  /** null: a temporary directory with --build, else demo/dist. */
  dist: string | null
  build: boolean
  producer: boolean
  producerMs: number
}

await main()

async function main(): Promise<void> {
  const { demo, relayArgs } = parseDemoArgs(process.argv.slice(2), process.env)
  let command
  try {
    command = parseCliArgs(relayArgs, process.env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    fail(error.message, 2)
  }
  if (command.kind !== 'run')
    fail('demo/server.ts takes the relay flags that run a relay (see remem-relay --help)', 2)
  const options = command.options

  if (demo.build) {
    if (demo.dist === null) {
      const dir = mkdtempSync(join(tmpdir(), 'remem-demo-'))
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
      demo.dist = dir
    }
    await build(demo.dist)
  }
  demo.dist ??= join(demoDir, 'dist')
  if (!existsSync(join(demo.dist, 'index.html'))) {
    fail(
      `no build in ${demo.dist}: run with --build (npm start does), or \`npm run build -w @remem/demo\``,
    )
  }

  let relay: RelayHandle
  try {
    relay = await createRelay(options)
  } catch (error) {
    fail(`the relay did not start: ${messageOf(error)}`)
  }
  const store = options.redis === undefined ? 'embedded' : `redis ${describeRedis(options.redis)}`
  console.log(`remem relay listening on ${relay.url} (store: ${store}, prefix ${options.prefix})`)

  let redis: Redis | null = null
  if (options.redis !== undefined) {
    const { url, options: redisOptions } = ioredisArguments(options.redis)
    redis = url === undefined ? new Redis(redisOptions) : new Redis(url, redisOptions)
    redis.on('error', () => undefined) // ioredis reconnects; the producer reports failed writes
  }
  const target = redis
    ? redisTarget(redis)
    : projectionTarget((relay.store as EmbeddedStore).projection)
  await seed(target, options.prefix)

  let producer: Producer | null = null
  if (demo.producer) {
    producer = startProducer(target, { prefix: options.prefix, intervalMs: demo.producerMs })
    console.log(
      `remem demo producer: writing ${options.prefix}dashboard:{cpu,memory,rps} every ${demo.producerMs} ms (REMEM_DEMO_PRODUCER=off turns it off)`,
    )
  } else {
    console.log('remem demo producer: off')
  }

  const server = await serve({ ...demo, dist: demo.dist }, relay, options.host)
  const address = server.address() as AddressInfo
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
  console.log(
    `remem demo listening on http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`,
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1)
    stopping = true
    console.log(`remem demo: ${signal}, stopping (send it again to exit at once)`)
    void (async () => {
      await producer?.stop()
      server.closeAllConnections()
      await new Promise((done) => server.close(done))
      await relay.close()
      await redis?.quit().catch(() => undefined)
      process.exit(0)
    })()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

function parseDemoArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { demo: DemoOptions; relayArgs: string[] } {
  const demoFlags = new Set(['--demo-port', '--dist', '--build', '--producer', '--producer-ms'])
  const relayArgs: string[] = []
  const demoArgs: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const flag = arg.split('=')[0]!
    if (!demoFlags.has(flag)) {
      relayArgs.push(arg)
      continue
    }
    demoArgs.push(arg)
    if (flag !== '--build' && !arg.includes('=')) demoArgs.push(argv[++i] ?? '')
  }
  const { values } = parseArgs({
    args: demoArgs,
    options: {
      'demo-port': { type: 'string' },
      dist: { type: 'string' },
      build: { type: 'boolean' },
      producer: { type: 'string' },
      'producer-ms': { type: 'string' },
    },
    strict: true,
  })
  const portText = values['demo-port'] ?? env.DEMO_PORT
  const demoPort = Number(portText ?? 5173)
  if (!Number.isInteger(demoPort) || demoPort < 0 || demoPort > 65535) {
    fail(`--demo-port/DEMO_PORT is ${portText}: give a port number (0 picks a free one)`, 2)
  }
  const producerText = (values.producer ?? env.REMEM_DEMO_PRODUCER ?? 'on').toLowerCase()
  if (!['on', 'off', '1', '0', 'true', 'false'].includes(producerText)) {
    fail(`--producer/REMEM_DEMO_PRODUCER is ${producerText}: give on or off`, 2)
  }
  const producerMs = Number(values['producer-ms'] ?? env.REMEM_DEMO_PRODUCER_MS ?? 500)
  if (!Number.isFinite(producerMs) || producerMs < 20) {
    fail(`--producer-ms/REMEM_DEMO_PRODUCER_MS is ${String(producerMs)}: give at least 20`, 2)
  }
  return {
    demo: {
      demoPort,
      strictPort: portText !== undefined,
      dist:
        (values.dist ?? env.REMEM_DEMO_DIST) === undefined
          ? null
          : resolve((values.dist ?? env.REMEM_DEMO_DIST)!),
      build: values.build ?? false,
      producer: ['on', '1', 'true'].includes(producerText),
      producerMs,
    },
    relayArgs,
  }
}

/** `vite build` of the demo into `outDir`, in a child process (Vite is the demo's own). */
async function build(outDir: string): Promise<void> {
  const viteBin = join(
    dirname(createRequire(join(demoDir, 'package.json')).resolve('vite/package.json')),
    'bin',
    'vite.js',
  )
  console.log(`remem demo: building into ${outDir}`)
  const child = spawn(
    process.execPath,
    [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: demoDir, stdio: 'inherit' },
  )
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  if (code !== 0) fail(`vite build failed (exit ${code}); see its output above`)
}

/** The todo list starts as an empty list, so that the first todos of two people both stay. */
async function seed(target: ProducerTarget, prefix: string): Promise<void> {
  const key = `${prefix}todos:items`
  if ((await target.get(key)) === null) {
    await target.setIf(
      key,
      null,
      JSON.stringify({ value: [], last_modified: `${Date.now()}000000` }),
    )
  }
}

/** Serves the build; the page learns its relay from a meta tag filled in per request. */
async function serve(
  demo: DemoOptions & { dist: string },
  relay: RelayHandle,
  host: string,
): Promise<Server> {
  const root = demo.dist
  const indexHtml = readFileSync(join(root, 'index.html'), 'utf8')
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end()
      return
    }
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://demo').pathname)
    if (path === '/' || path === '/index.html' || extname(path) === '') {
      // The relay on the host name the browser used for this page: it works from other
      // machines too when both listen on every interface.
      const pageHost = (request.headers.host ?? '127.0.0.1').replace(/:\d+$/, '')
      const relayUrl = `ws://${pageHost}:${relay.port}`
      const html = indexHtml.replace(
        /<meta name="remem-relay" content="[^"]*"\s*\/?>/,
        `<meta name="remem-relay" content="${escapeHtml(relayUrl)}" />`,
      )
      response
        .writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' })
        .end(request.method === 'HEAD' ? undefined : html)
      return
    }
    const file = normalize(join(root, path))
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    const immutable = path.startsWith('/assets/')
    response
      .writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      })
      .end(request.method === 'HEAD' ? undefined : readFileSync(file))
  }
  const server = createServer(handle)
  const attempts = demo.strictPort || demo.demoPort === 0 ? 1 : 10
  for (let attempt = 0; ; attempt++) {
    const port = demo.demoPort === 0 ? 0 : demo.demoPort + attempt
    try {
      await new Promise<void>((done, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          done()
        })
      })
      return server
    } catch (error) {
      const taken = (error as { code?: string }).code === 'EADDRINUSE'
      if (!taken || attempt + 1 >= attempts) {
        await relay.close()
        fail(
          taken
            ? `port ${port} on ${host} is taken: pick another with --demo-port or DEMO_PORT (0 picks a free one)`
            : messageOf(error),
        )
      }
    }
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function fail(message: string, code = 1): never {
  console.error(`remem demo: ${message}`)
  process.exit(code)
}
