/**
 * After `ERROR loadFailed` a memory runs its handshake again (SYNC step 1) on the same socket,
 * with full-jitter backoff whose ceiling doubles per failure (250 ms, 500 ms, 1 s, … 10 s),
 * until the relay answers; a completed handshake (or an ACK) resets it.
 */
import { afterEach, expect, it, vi } from 'vitest'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { MemorySync } from '../MemorySync.ts'
import { fakeConnection } from './helpers/fakeConnection.ts'
import { createMemoryStorage } from '../offline/memoryStorage.ts'
import { ErrorCode, type Message, MessageType } from '../protocol/messages.ts'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

it('retries SYNC step 1 after loadFailed with a doubling ceiling, on the same connection', async () => {
  vi.useFakeTimers()
  // The largest delay full jitter can draw: exactly the ceiling.
  vi.spyOn(Math, 'random').mockReturnValue(0.999_999)
  const sent: Message[] = []
  const errors: Error[] = []
  const sync = new MemorySync({
    name: 'm',
    doc: new Y.Doc(),
    connection: fakeConnection(sent),
    storage: createMemoryStorage().open('ws://relay', 'm', 'tab'),
    storageKind: () => 'memory',
    tabs: null,
    checkpointMs: 1_000,
    onError: (error) => errors.push(error),
  })
  await sync.loaded
  const handshakes = (): number => sent.filter((m) => m.type === MessageType.sync).length
  expect(handshakes()).toBe(1)

  const fail = (): void =>
    sync.onMessage({ type: MessageType.error, name: 'm', code: ErrorCode.loadFailed, message: 'no' })
  for (const ceiling of [250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]) {
    const before = handshakes()
    fail()
    await vi.advanceTimersByTimeAsync(ceiling - 2)
    expect(handshakes()).toBe(before)
    await vi.advanceTimersByTimeAsync(2)
    expect(handshakes()).toBe(before + 1)
  }
  expect(errors).toHaveLength(8)
  expect(sync.status.connection).toBe('connecting')

  // The memory loads (the relay's SYNC step 1, nothing to send): the backoff starts over.
  const step1 = encoding.createEncoder()
  syncProtocol.writeSyncStep1(step1, new Y.Doc())
  sync.onMessage({ type: MessageType.sync, name: 'm', payload: encoding.toUint8Array(step1) })
  expect(sync.status.connection).toBe('online')
  const before = handshakes()
  fail()
  await vi.advanceTimersByTimeAsync(250)
  expect(handshakes()).toBe(before + 1)
  await sync.dispose()
})
