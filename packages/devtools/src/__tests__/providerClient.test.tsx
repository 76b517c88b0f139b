/**
 * <RememDevtools /> without a `client` prop inspects the client of the nearest
 * <RememProvider>: a given one at once, one the provider creates from its `url` once it
 * exists; outside a provider it throws, saying what it needs.
 */
import { type RememClient, createClient } from '@remem/client'
import { RememProvider, useSharedMemory } from '@remem/react'
import { type RelayHandle, createRelay, silentLogger } from '@remem/server'
import { cleanup, render, waitFor, within } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { RememDevtools } from '../RememDevtools.tsx'

let relay: RelayHandle
const clients: RememClient[] = []
beforeAll(async () => {
  relay = await createRelay({ port: 0, host: '127.0.0.1', logger: silentLogger })
})
afterAll(async () => {
  await relay?.close()
})
afterEach(async () => {
  cleanup()
  vi.restoreAllMocks()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

/** The open panel in the devtools' shadow root. */
async function panel(): Promise<HTMLElement> {
  const host = await waitFor(() => {
    const found = document.querySelector('[data-remem-devtools]')
    if (!found?.shadowRoot) throw new Error('no devtools host with a shadow root in <body>')
    return found.shadowRoot as unknown as HTMLElement
  })
  return within(host).findByRole('dialog', { name: 'remem devtools' })
}

it("inspects the client given to the provider", async () => {
  const client = createClient({ url: relay.url, WebSocket, storage: 'memory' })
  clients.push(client)
  client.memory('board').set('title', 'plans')
  render(
    <RememProvider client={client}>
      <RememDevtools initialIsOpen />
    </RememProvider>,
  )
  const open = await panel()
  expect(within(open).getByRole('tab', { name: 'board' }).getAttribute('aria-selected')).toBe('true')
  await within(open).findByRole('button', { name: /^edit board: title, now "?plans"?/ })
})

it('inspects the client a url provider creates, once it exists', async () => {
  function Notes() {
    const notes = useSharedMemory<{ text?: string }>('notes')
    return <p>{notes.text ?? ''}</p>
  }
  render(
    <RememProvider url={relay.url} WebSocket={WebSocket} storage="memory">
      <Notes />
      <RememDevtools initialIsOpen />
    </RememProvider>,
  )
  const open = await panel()
  await within(open).findByRole('tab', { name: 'notes' })
})

it('throws outside a provider without a client, saying what it needs', () => {
  vi.spyOn(console, 'error').mockImplementation(() => {})
  expect(() => render(<RememDevtools />)).toThrow(
    '<RememDevtools> needs a `client` prop, or a <RememProvider> above it',
  )
})
