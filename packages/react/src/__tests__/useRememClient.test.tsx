/**
 * useRememClient(): the provider's given client from the first render; the client a `url`
 * provider creates (null before), which is the one its memories sync through; a clear error
 * outside a provider.
 */
import type { RememClient } from '@remem/client'
import type { RelayHandle } from '@remem/server'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { useRememClient } from '../index.ts'
import { useSharedMemory } from '../useSharedMemory.ts'
import { WebSocket, connect, startRelay } from './helpers.ts'

let relay: RelayHandle
const clients: RememClient[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay?.close()
})
afterEach(async () => {
  cleanup()
  vi.restoreAllMocks()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

/** Records every client the hook returns, render by render. */
function Probe({ seen }: { seen: Array<RememClient | null> }) {
  seen.push(useRememClient())
  return null
}

describe('useRememClient', () => {
  it('returns the client given to the provider, from the first render', () => {
    const client = connect(relay, { storage: 'memory' })
    clients.push(client)
    const seen: Array<RememClient | null> = []
    render(
      <RememProvider client={client}>
        <Probe seen={seen} />
      </RememProvider>,
    )
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((each) => each === client)).toBe(true)
  })

  it('returns null, then the client a url provider created: the one its memories use', async () => {
    const seen: Array<RememClient | null> = []
    function Counter() {
      const counter = useSharedMemory<{ n?: number }>('client-hook')
      return (
        <button type="button" onClick={() => (counter.n = (counter.n ?? 0) + 1)}>
          {String(counter.n)}
        </button>
      )
    }
    render(
      <RememProvider url={relay.url} WebSocket={WebSocket} storage="memory">
        <Probe seen={seen} />
        <Counter />
      </RememProvider>,
    )
    expect(seen[0]).toBeNull()
    await waitFor(() => expect(seen.at(-1)).not.toBeNull())
    const client = seen.at(-1)!
    act(() => screen.getByRole('button').click())
    await waitFor(() => expect(screen.getByRole('button').textContent).toBe('1'))
    expect(client.memory('client-hook').toJSON()).toEqual({ n: 1 })
    await act(() => client.memory('client-hook').whenSynced())
    expect(seen.filter((each) => each !== null && each !== client)).toEqual([])
  })

  it('throws outside a provider, saying where to call it', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => render(<Probe seen={[]} />)).toThrow(
      'useRememClient() must be called inside a <RememProvider url="…">',
    )
  })
})
