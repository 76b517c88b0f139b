// Type-checked in the packed-tarball test against the installed @remem/server (see client.ts).
import {
  type Access,
  type AppendResult,
  type Authorize,
  type AuthorizeContext,
  type CreateTokenOptions,
  DEFAULT_LIMITS,
  EmbeddedStore,
  type LogEntry,
  type Logger,
  MemoryRoom,
  type PinoLoggerOptions,
  type PublishedUpdate,
  type RedisClusterConfig,
  RedisClusterStore,
  type RedisClusterTarget,
  RedisStore,
  Relay,
  type RelayHandle,
  type RelayLimits,
  RelayMetrics,
  type RelayOptions,
  type Store,
  type StoreStatus,
  type StoredMemory,
  type TokenClaims,
  TokenError,
  type UpdateLimits,
  type UpdateVerdict,
  compareIds,
  consoleLogger,
  createPinoLogger,
  createRelay,
  createToken,
  silentLogger,
  validateUpdate,
} from '@remem/server'

const logger: Logger = process.env.QUIET ? silentLogger : consoleLogger
const authorize: Authorize = ({ memory }: AuthorizeContext) => (memory.startsWith('public-') ? 'read' : 'write')
const limits: RelayLimits = DEFAULT_LIMITS
const options: RelayOptions = { port: 0, logger, authorize }

export async function main(): Promise<void> {
  const relay: RelayHandle = await createRelay(options)
  const tokenOptions: CreateTokenOptions = { memories: ['dashboard'], access: 'read' }
  const token: string = await createToken('a secret of at least 32 characters!', tokenOptions)
  console.log(relay.url, token.length, limits)
  await relay.close()
}

export const pino: Logger = createPinoLogger({} satisfies PinoLoggerOptions)
export const classes = [Relay, MemoryRoom, EmbeddedStore, RedisStore, RedisClusterStore, RelayMetrics, TokenError] as const
const cluster: RedisClusterConfig = { nodes: ['127.0.0.1:7000', { host: '127.0.0.1', port: 7001 }] }
export const clusterTargets: RedisClusterTarget[] = [cluster, ['127.0.0.1:7000']]
export const order: number = compareIds('1-0', '2-0')
export const check = validateUpdate
export type StoreTypes = [Access, AppendResult, LogEntry, PublishedUpdate, Store, StoreStatus, StoredMemory, TokenClaims]
export type Limits = [UpdateLimits, UpdateVerdict]
