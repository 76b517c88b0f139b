// Type-checked in the packed-tarball test (test/packaging/tarball.test.ts) against the
// installed @remem/client, with `strict` and moduleResolution bundler and node16. It names
// every public export of the package (the test checks that), and uses the main ones.
import {
  AuthError,
  type Appended,
  type BackoffOptions,
  type ClientOptions,
  type ClientStatus,
  ClientInspector,
  ClosedError,
  ConnectionError,
  type ConnectionState,
  EpochConflictError,
  type HeartbeatOptions,
  type IndexedDbStorageOptions,
  type InspectorSnapshot,
  type Json,
  type JsonObject,
  type JsonPrimitive,
  Memory,
  type MemoryStatus,
  type MemoryStorage,
  type Peer,
  Presence,
  type PendingChangeInfo,
  type PresenceSnapshot,
  type QueueKey,
  RefusedError,
  RememClient,
  RememError,
  type RememErrorCode,
  type StorageAdapter,
  StorageError,
  type StorageKind,
  type StoredState,
  type StoredUpdate,
  SyncedDict,
  SyncedList,
  type TimelineEvent,
  type TimelineKind,
  type TokenSource,
  ValidationError,
  type WebSocketConstructor,
  type WebSocketLike,
  createClient,
  createIndexedDbStorage,
  createMemoryStorage,
  isLive,
  live,
  unwrapLive,
} from '@remem/client'
import {
  type AccessLevel,
  CloseCode,
  ErrorCode,
  FrameError,
  MEMORY_NAME,
  MemoryDoc,
  type Message,
  MessageType,
  type NodeKind,
  ROOT_NAME,
  type Slot,
  assignDict,
  assignList,
  decodeDictEntry,
  decodeListItem,
  type DictIndex,
  decodeMessage,
  dictDelete,
  dictIndex,
  dictSet,
  docToJSON,
  encodeMessage,
  errorCodeName,
  forEachDeletedItem,
  forEachInsertedItem,
  getRoot,
  isPrimitive,
  isValidMemoryName,
  jsonEquals,
  mergeDictKey,
  rebuildState,
  replaceDocument,
  scanDict,
  scanList,
  slotToJSON,
} from '@remem/client/protocol'
import WebSocket from 'ws'

interface Board {
  title?: string
  todos?: Array<{ text: string; done: boolean }>
}

const token: TokenSource = async () => 'token'
const storage: StorageAdapter = createMemoryStorage()
const options: ClientOptions = { url: 'ws://127.0.0.1:8787', token, storage, WebSocket }
export const client: RememClient = createClient(options)
const memory: Memory = client.memory('board')
memory.set('title', 'Plan')
memory.set('todos', [{ text: 'a', done: false }])
const todos = memory.get('todos')
if (todos instanceof SyncedList) {
  todos.push({ text: 'b', done: true })
  const first = todos.get(0)
  if (first instanceof SyncedDict) first.set('done', true)
}
const board = live<Board>(memory)
board.title = 'Plan B'
export const unwrapped: SyncedDict | SyncedList | undefined = isLive(board) ? unwrapLive(board) : undefined
const status: MemoryStatus = memory.status
const connection: ConnectionState = status.connection
const overall: ClientStatus = client.status
const presence: Presence = memory.presence
const others: PresenceSnapshot = presence.getSnapshot()
const everyone: readonly Peer[] = others.others
export const snapshot: JsonObject = memory.getSnapshot()
export const unsubscribe: () => void = memory.subscribe(() => {})
export async function flush(): Promise<void> {
  await memory.whenSynced()
  await client.close()
}
export const summary = { connection, overall, everyone }
export const classes = [RememClient, Memory, Presence, SyncedDict, SyncedList] as const

// What @remem/devtools shows: the timeline, the pending queue, an offline switch.
const inspector = client.inspector
export const isInspector: boolean = inspector instanceof ClientInspector
inspector.setOffline(false)
export const pending: readonly PendingChangeInfo[] = inspector.pending('board')
export type Inspection = [InspectorSnapshot, TimelineEvent, TimelineKind]

// Errors are classes with a stable code.
export function describe(error: unknown): RememErrorCode | 'unknown' {
  if (error instanceof ValidationError || error instanceof AuthError) return error.code
  if (error instanceof ConnectionError || error instanceof ClosedError) return error.code
  if (error instanceof RefusedError || error instanceof StorageError) return error.code
  if (error instanceof EpochConflictError) return error.code
  return error instanceof RememError ? error.code : 'unknown'
}

// Storage and transport types, for custom adapters.
const kind: StorageKind = 'memory'
const indexedDb: IndexedDbStorageOptions = {}
export const browserStorage: StorageAdapter = createIndexedDbStorage(indexedDb)
export type Adapters = [Appended, MemoryStorage, QueueKey, StoredState, StoredUpdate, WebSocketLike, WebSocketConstructor]
export const tuning: { backoff: BackoffOptions; heartbeat: HeartbeatOptions; kind: StorageKind } = {
  backoff: {},
  heartbeat: {},
  kind,
}
export const values: [Json, JsonPrimitive] = [{ a: [1, 'two', null] }, true]

// The protocol, shared by the client and the relay.
export const protocol = {
  CloseCode,
  ErrorCode,
  FrameError,
  MEMORY_NAME,
  MemoryDoc,
  MessageType,
  ROOT_NAME,
  assignDict,
  assignList,
  decodeDictEntry,
  decodeListItem,
  decodeMessage,
  dictDelete,
  dictIndex,
  dictSet,
  docToJSON,
  encodeMessage,
  errorCodeName,
  forEachDeletedItem,
  forEachInsertedItem,
  getRoot,
  isPrimitive,
  isValidMemoryName,
  jsonEquals,
  mergeDictKey,
  rebuildState,
  replaceDocument,
  scanDict,
  scanList,
  slotToJSON,
}
export const validName: boolean = isValidMemoryName('board')
export type ProtocolTypes = [AccessLevel, DictIndex, Message, NodeKind, Slot]
