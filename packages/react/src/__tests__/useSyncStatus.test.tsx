import type { RememClient } from '@remem/client'
import { createRelay, silentLogger } from '@remem/server'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { useSyncStatus } from '../useSyncStatus.ts'
import { useSharedMemory } from '../useSharedMemory.ts'
import { connect, startRelay } from './helpers.ts'

const clients: RememClient[] = []
afterEach(async () => {
  cleanup()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

function Status({ name }: { name?: string }) {
  const { connection, pending } = useSyncStatus(name)
  return <p data-testid={name ?? 'all'}>{`${connection} ${pending}`}</p>
}

function Uses({ name }: { name: string }) {
  useSharedMemory(name)
  return null
}

describe('useSyncStatus', () => {
  it('shows pending changes while the relay is away, and online 0 once they are persisted', async () => {
    // A port with no relay behind it (yet).
    const probe = await startRelay()
    const { port, url } = probe
    await probe.close()

    const client = connect({ url })
    clients.push(client)
    render(
      <RememProvider client={client}>
        <Status name="one" />
        <Status name="two" />
        <Status />
        <Uses name="one" />
        <Uses name="two" />
      </RememProvider>,
    )
    await waitFor(() => expect(screen.getByTestId('all').textContent).toBe('offline 0'))
    act(() => {
      client.memory('one').set('a', 1)
      client.memory('one').set('b', 1)
      client.memory('two').set('a', 1)
    })
    expect(screen.getByTestId('one').textContent).toBe('offline 2')
    expect(screen.getByTestId('two').textContent).toBe('offline 1')
    expect(screen.getByTestId('all').textContent).toBe('offline 3')

    const relay = await createRelay({ port, host: '127.0.0.1', logger: silentLogger })
    try {
      await waitFor(() => expect(screen.getByTestId('all').textContent).toBe('online 0'), {
        timeout: 5000,
      })
      expect(screen.getByTestId('one').textContent).toBe('online 0')
      expect(screen.getByTestId('two').textContent).toBe('online 0')
      act(() => {
        client.memory('two').set('b', 2)
      })
      expect(screen.getByTestId('all').textContent).toBe('online 1')
      await waitFor(() => expect(screen.getByTestId('all').textContent).toBe('online 0'))
    } finally {
      cleanup()
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await relay.close()
    }
  })

  it('counts a memory opened after the whole-client status mounted', async () => {
    const relay = await startRelay()
    try {
      const client = connect(relay)
      clients.push(client)
      const view = render(
        <RememProvider client={client}>
          <Status />
        </RememProvider>,
      )
      expect(screen.getByTestId('all').textContent).toBe('connecting 0')
      view.rerender(
        <RememProvider client={client}>
          <Status />
          <Uses name="late" />
        </RememProvider>,
      )
      await waitFor(() => expect(screen.getByTestId('all').textContent).toBe('online 0'))
      act(() => {
        client.memory('late').set('a', 1)
      })
      expect(screen.getByTestId('all').textContent).toBe('online 1')
      await waitFor(() => expect(screen.getByTestId('all').textContent).toBe('online 0'))
    } finally {
      cleanup()
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await relay.close()
    }
  })
})
