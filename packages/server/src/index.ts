export { createRelay } from './createRelay.ts'
export type { RelayHandle, RelayOptions } from './createRelay.ts'
export { Relay } from './Relay.ts'
export { MemoryRoom } from './MemoryRoom.ts'
export { EmbeddedStore } from './store/EmbeddedStore.ts'
export { RedisStore } from './store/RedisStore.ts'
export { RedisClusterStore } from './store/RedisClusterStore.ts'
export type { RedisClusterConfig, RedisClusterTarget } from './store/clusterNodes.ts'
export { compareIds } from './store/Store.ts'
export type {
  AppendResult,
  LogEntry,
  PublishedUpdate,
  Store,
  StoreStatus,
  StoredMemory,
} from './store/Store.ts'
export { consoleLogger, silentLogger } from './logger.ts'
export type { Logger } from './logger.ts'
export { validateUpdate } from './validateUpdate.ts'
export { createToken, TokenError } from './auth/token.ts'
export type { Access, CreateTokenOptions, TokenClaims } from './auth/token.ts'
export type { Authorize, AuthorizeContext } from './auth/AccessPolicy.ts'
export { DEFAULT_LIMITS } from './limits/limits.ts'
export type { RelayLimits } from './limits/limits.ts'
export { RelayMetrics } from './ops/metrics.ts'
export { createPinoLogger } from './ops/pinoLogger.ts'
export type { PinoLoggerOptions } from './ops/pinoLogger.ts'
export type { UpdateLimits, UpdateVerdict } from './validateUpdate.ts'
