/**
 * What an idle connection keeps on the relay (issue 12: idle memory per connection). Its
 * HTTP upgrade request (an IncomingMessage with its headers, about 1.1 KB of heap) is kept
 * only when an `authorize` hook will be asked about it.
 */
import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, expect, it } from 'vitest'
import { EmbeddedStore, type RelayHandle, type RelayOptions } from '@remem/server'
import { connect, eventually, startRelay } from './helpers.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A relay, and weak references to the upgrade requests of its connections. */
async function relayWatchingRequests(options: RelayOptions = {}): Promise<{ relay: RelayHandle; requests: Array<WeakRef<IncomingMessage>> }> {
  const relay = await startRelay({ store: new EmbeddedStore(), ...options })
  cleanups.push(() => relay.close())
  const requests: Array<WeakRef<IncomingMessage>> = []
  // The WebSocket server is the relay's own; the test listens to it for the requests alone.
  const wss = (relay.relay as unknown as { wss: EventEmitter }).wss
  wss.on('connection', (_socket: unknown, request: IncomingMessage) => requests.push(new WeakRef(request)))
  return { relay, requests }
}

async function openIdleClient(relay: RelayHandle): Promise<void> {
  const client = connect(relay.url)
  cleanups.push(() => client.close())
  const memory = client.memory('idle')
  memory.set('here', true)
  await memory.whenSynced()
}

it('lets an open connection go of its upgrade request when no authorize hook will ask for it', async () => {
  const { relay, requests } = await relayWatchingRequests()
  await openIdleClient(relay)
  expect(relay.relay.sessions.size).toBe(1)
  expect(requests).toHaveLength(1)
  await eventually(() => {
    gc()
    expect(requests[0]!.deref()).toBeUndefined()
  })
  expect(relay.relay.sessions.size).toBe(1)
})

it('keeps it for an authorize hook, which sees it for every memory opened later', async () => {
  const addresses: Array<string | undefined> = []
  const { relay, requests } = await relayWatchingRequests({
    authorize: ({ request }) => {
      addresses.push(request.socket.remoteAddress)
      return 'write'
    },
  })
  await openIdleClient(relay)
  gc()
  expect(requests[0]!.deref()).toBeDefined()
  expect(addresses).toEqual(['127.0.0.1'])
})
