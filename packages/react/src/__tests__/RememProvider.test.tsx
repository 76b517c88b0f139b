import { type Memory, RememClient } from '@remem/client'
import type { RelayHandle } from '@remem/server'
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import { StrictMode, useEffect, useRef } from 'react'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { useSharedMemory } from '../useSharedMemory.ts'
import { useSyncStatus } from '../useSyncStatus.ts'
import { useUndo } from '../useUndo.ts'
import { WebSocket, connect, startRelay } from './helpers.ts'

let relay: RelayHandle
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.close()
})

/** Every client whose memories were opened, and the listeners active on them and their memories. */
const clients = new Set<RememClient>()
const active = { change: 0, status: 0, clientStatus: 0 }
const memories = new Set<Memory>()

beforeEach(() => {
  clients.clear()
  memories.clear()
  active.change = 0
  active.status = 0
  active.clientStatus = 0
  const original = RememClient.prototype.memory
  vi.spyOn(RememClient.prototype, 'memory').mockImplementation(function (this: RememClient, name) {
    if (!clients.has(this)) {
      clients.add(this)
      this.subscribeStatus = counted(this.subscribeStatus, 'clientStatus')
    }
    const memory = original.call(this, name)
    if (!memories.has(memory)) {
      memories.add(memory)
      memory.subscribe = counted(memory.subscribe, 'change')
      memory.subscribeStatus = counted(memory.subscribeStatus, 'status')
    }
    return memory
  })
})
afterEach(async () => {
  cleanup()
  vi.restoreAllMocks()
  await Promise.all([...clients].map((client) => client.close()))
})

function counted(subscribe: Memory['subscribe'], kind: keyof typeof active): Memory['subscribe'] {
  return (listener) => {
    active[kind]++
    const off = subscribe(listener)
    let done = false
    return () => {
      if (done) return
      done = true
      active[kind]--
      off()
    }
  }
}

/**
 * Listeners of the document's `afterTransaction`: the snapshot cache's, undo's, the memory's
 * (which calls subscribers) and its sync's (which checkpoints what the relay sent).
 */
function transactionListeners(memory: Memory): number {
  const observers = (memory.doc as unknown as { _observers: Map<string, Set<unknown>> })._observers
  return observers.get('afterTransaction')?.size ?? 0
}

function App({ name = 'strict' }: { name?: string }) {
  const state = useSharedMemory<{ n?: number }>(name)
  const status = useSyncStatus(name)
  const all = useSyncStatus()
  const { canUndo } = useUndo(name)
  return (
    <p data-testid="app">{`${String(state.n)} ${status.connection} ${all.connection} ${String(canUndo)}`}</p>
  )
}

describe('RememProvider', () => {
  it('opens one socket under StrictMode, and leaks no socket or listener after unmount and remount', async () => {
    const view = render(
      <StrictMode>
        <RememProvider url={relay.url} WebSocket={WebSocket}>
          <App />
        </RememProvider>
      </StrictMode>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
    )
    expect(clients.size).toBe(1)
    expect(relay.relay.sessions.size).toBe(1)
    // One each: useSharedMemory, useSyncStatus('strict') and useSyncStatus().
    expect(active).toEqual({ change: 1, status: 1, clientStatus: 1 })
    const [first] = memories
    expect(transactionListeners(first!)).toBe(4)

    view.unmount()
    await waitFor(() => expect(relay.relay.sessions.size).toBe(0))
    expect(active).toEqual({ change: 0, status: 0, clientStatus: 0 })
    await waitFor(() => expect(transactionListeners(first!)).toBe(0))

    render(
      <StrictMode>
        <RememProvider url={relay.url} WebSocket={WebSocket}>
          <App />
        </RememProvider>
      </StrictMode>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
    )
    expect(clients.size).toBe(2) // a new provider, a new client; the first is closed
    expect(relay.relay.sessions.size).toBe(1)
    expect(active).toEqual({ change: 1, status: 1, clientStatus: 1 })
  })

  it('reuses its client when its children unmount and remount', async () => {
    function Toggle({ show }: { show: boolean }) {
      return (
        <RememProvider url={relay.url} WebSocket={WebSocket}>
          {show ? <App /> : <p data-testid="app">hidden</p>}
        </RememProvider>
      )
    }
    const view = render(
      <StrictMode>
        <Toggle show />
      </StrictMode>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
    )
    view.rerender(
      <StrictMode>
        <Toggle show={false} />
      </StrictMode>,
    )
    expect(active).toEqual({ change: 0, status: 0, clientStatus: 0 })
    view.rerender(
      <StrictMode>
        <Toggle show />
      </StrictMode>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
    )
    expect(clients.size).toBe(1)
    expect(relay.relay.sessions.size).toBe(1)
    expect(active).toEqual({ change: 1, status: 1, clientStatus: 1 })
  })

  it('lets effects of the first render write, before a render has shown the client', async () => {
    function Visit() {
      const state = useSharedMemory<{ visits?: number }>('visits')
      const wrote = useRef(false)
      useEffect(() => {
        if (wrote.current) return
        wrote.current = true
        state.visits = 1 // in the first render there was no client yet
      }, [state])
      return <p data-testid="visits">{String(state.visits)}</p>
    }
    render(
      <RememProvider url={relay.url} WebSocket={WebSocket}>
        <Visit />
      </RememProvider>,
    )
    await waitFor(() => expect(screen.getByTestId('visits').textContent).toBe('1'))
  })

  it('never closes a ready client', async () => {
    const client = connect(relay)
    clients.add(client)
    const view = render(
      <StrictMode>
        <RememProvider client={client}>
          <App />
        </RememProvider>
      </StrictMode>,
    )
    await waitFor(() =>
      expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
    )
    view.unmount()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(active).toEqual({ change: 0, status: 0, clientStatus: 0 })
    expect(relay.relay.sessions.size).toBe(1)
    client.memory('strict').set('n', 1)
    await client.memory('strict').whenSynced()
  })

  it('moves to a new client when the url changes', async () => {
    const other = await startRelay()
    try {
      function At({ url }: { url: string }) {
        return (
          <RememProvider url={url} WebSocket={WebSocket}>
            <App name="moving" />
          </RememProvider>
        )
      }
      const writer = connect(relay)
      clients.add(writer)
      writer.memory('moving').set('n', 1)
      await writer.memory('moving').whenSynced()
      const view = render(<At url={relay.url} />)
      await waitFor(() =>
        expect(screen.getByTestId('app').textContent).toBe('1 online online false'),
      )
      view.rerender(<At url={other.url} />)
      await waitFor(() => expect(other.relay.sessions.size).toBe(1))
      await waitFor(() => expect(relay.relay.sessions.size).toBe(1)) // the writer's
      await waitFor(() =>
        expect(screen.getByTestId('app').textContent).toBe('undefined online online false'),
      )
      // The writer's memory has no listeners; the old client's were removed.
      expect(active).toEqual({ change: 1, status: 1, clientStatus: 1 })
    } finally {
      cleanup()
      await waitFor(() => expect(other.relay.sessions.size).toBe(0)) // the owned client closed
      await other.close()
    }
  })
})
