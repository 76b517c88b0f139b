/**
 * `remem-relay`: runs a relay from the command line. See `USAGE` in `cliArgs.ts`.
 *
 * Run from the repository without a build:
 *   node --conditions=@remem/source --import tsx packages/server/src/cli.ts --port 8787
 * or through the bin, `npx remem-relay`, which sets both up itself.
 */
import { readFileSync } from 'node:fs'
import { CliUsageError, type CliRelayOptions, USAGE, parseCliArgs } from './cliArgs.ts'
import { describeRedis } from './redisConfig.ts'
import { describeCluster } from './store/clusterNodes.ts'

await main(process.argv.slice(2), process.env)

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let command
  try {
    command = parseCliArgs(argv, env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    console.error(`remem-relay: ${error.message}`)
    process.exit(2)
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE)
      return
    case 'version':
      console.log(readVersion())
      return
    case 'run':
      await run(command.options)
      return
    case 'tokenHelp': {
      const { TOKEN_USAGE } = await import('./auth/tokenArgs.ts')
      process.stdout.write(TOKEN_USAGE)
      return
    }
    case 'token': {
      const { createToken } = await import('./auth/token.ts')
      const { secret, ...tokenOptions } = command.options
      try {
        console.log(await createToken(secret, tokenOptions))
      } catch (error) {
        console.error(`remem-relay token: ${messageOf(error)}`)
        process.exit(2)
      }
      return
    }
  }
}

async function run(options: CliRelayOptions): Promise<void> {
  // Loaded here so that --help and argument errors don't pay for ws, ioredis and yjs.
  const { createRelay } = await import('./createRelay.ts')
  const { createPinoLogger } = await import('./ops/pinoLogger.ts')
  const { collectDefaultMetrics } = await import('prom-client')
  const { logLevel, ...relayOptions } = options
  let relay: Awaited<ReturnType<typeof createRelay>>
  try {
    relay = await createRelay({ ...relayOptions, logger: createPinoLogger({ level: logLevel ?? 'info' }) })
    // One relay per process here, so the process's own metrics belong with it.
    if (relay.metrics) collectDefaultMetrics({ register: relay.metrics.registry })
  } catch (error) {
    console.error(`remem-relay: ${startFailure(error, options)}`)
    process.exit(1)
  }

  const store = options.redisCluster
    ? describeCluster(options.redisCluster)
    : options.redis === undefined
      ? 'embedded'
      : `redis ${describeRedis(options.redis)}`
  const keyspace =
    options.keyspace === 'off'
      ? `, keyspace off: reconcile every ${options.reconcileIntervalMs ?? 5000} ms`
      : ''
  console.log(
    `remem relay listening on ${relay.url} (store: ${store}, prefix ${options.prefix}${keyspace})`,
  )

  let closing = false
  const stop = (signal: NodeJS.Signals): void => {
    if (closing) {
      console.error(`remem relay: ${signal} again, exiting without waiting`)
      process.exit(1)
    }
    closing = true
    console.log(`remem relay: ${signal}, closing (send it again to exit at once)`)
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`remem relay: close failed: ${messageOf(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

function startFailure(error: unknown, options: CliRelayOptions): string {
  const message = messageOf(error)
  if ((error as { code?: unknown } | null)?.code === 'EADDRINUSE') {
    return `${message}\nport ${options.port} on ${options.host} is taken; pick another with --port or PORT (0 picks a free one)`
  }
  return message
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}
