export { createClient } from './createClient.ts'
export { RememClient } from './RememClient.ts'
export type { ClientOptions, ClientStatus, TokenSource } from './RememClient.ts'
export { Memory } from './Memory.ts'
export type { MemoryStatus } from './MemorySync.ts'
export { Presence } from './Presence.ts'
export type { Peer, PresenceSnapshot } from './Presence.ts'
export { SyncedDict } from './SyncedDict.ts'
export { SyncedList } from './SyncedList.ts'
export { live, isLive, unwrapLive } from './live.ts'
export { ClientInspector } from './inspect/ClientInspector.ts'
export type {
  InspectorSnapshot,
  PendingChangeInfo,
  TimelineEvent,
  TimelineKind,
} from './inspect/ClientInspector.ts'
export {
  AuthError,
  ClosedError,
  ConnectionError,
  RefusedError,
  EpochConflictError,
  RememError,
  StorageError,
  ValidationError,
} from './errors.ts'
export type { RememErrorCode } from './errors.ts'
export type {
  ConnectionState,
  HeartbeatOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './connection/Connection.ts'
export type { BackoffOptions } from './connection/backoff.ts'
export { createMemoryStorage } from './offline/memoryStorage.ts'
export { createIndexedDbStorage } from './offline/indexedDbStorage.ts'
export type { IndexedDbStorageOptions } from './offline/indexedDbStorage.ts'
export type {
  Appended,
  MemoryStorage,
  QueueKey,
  StorageAdapter,
  StorageKind,
  StoredState,
  StoredUpdate,
} from './offline/Storage.ts'
export type { Json, JsonObject, JsonPrimitive } from './model/layout.ts'
