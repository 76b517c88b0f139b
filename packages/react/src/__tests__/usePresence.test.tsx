import type { RememClient } from '@remem/client'
import type { RelayHandle } from '@remem/server'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { StrictMode, useEffect } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { usePresence } from '../usePresence.ts'
import { connect, startRelay } from './helpers.ts'

type Who = { name?: string }

let relay: RelayHandle
const clients: RememClient[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterEach(async () => {
  cleanup()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})
afterAll(async () => {
  await relay.close()
})

let renders = 0
function Avatars({ name, me }: { name: string; me: string }) {
  renders++
  const { others, self, setState } = usePresence<Who>(name)
  useEffect(() => setState({ name: me }), [setState, me])
  return (
    <>
      <p data-testid="self">{self?.name ?? '-'}</p>
      <ul>
        {others.map((peer) => (
          <li key={peer.clientId} data-testid="other">
            {peer.state.name ?? '?'}
          </li>
        ))}
      </ul>
    </>
  )
}

const names = (): string[] => screen.queryAllByTestId('other').map((item) => item.textContent ?? '')

describe('usePresence', () => {
  it('renders the others, follows their changes, and drops one that closes', async () => {
    const ours = connect(relay)
    const theirs = connect(relay)
    clients.push(ours, theirs)
    renders = 0
    render(
      <StrictMode>
        <RememProvider client={ours}>
          <Avatars name="presence" me="Ada" />
        </RememProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(screen.getByTestId('self').textContent).toBe('Ada'))
    expect(names()).toEqual([])

    const remote = theirs.memory('presence').presence
    remote.setState({ name: 'Bob' })
    await waitFor(() => expect(names()).toEqual(['Bob']))
    // Our state reached the other client, set from the hook's effect.
    await waitFor(() => expect(remote.others.map((peer) => peer.state)).toEqual([{ name: 'Ada' }]))

    remote.setState({ name: 'Bobby' })
    await waitFor(() => expect(names()).toEqual(['Bobby']))
    const before = renders
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)))
    expect(renders).toBe(before) // nothing changed, nothing rendered

    await theirs.close()
    clients.splice(clients.indexOf(theirs), 1)
    await waitFor(() => expect(names()).toEqual([]), { timeout: 3000 })
  })

  it('works with a provider that owns its client (url)', async () => {
    const theirs = connect(relay)
    clients.push(theirs)
    theirs.memory('owned').presence.setState({ name: 'Bob' })
    const { WebSocket } = await import('./helpers.ts')
    render(
      <RememProvider url={relay.url} WebSocket={WebSocket} storage="memory">
        <Avatars name="owned" me="Ada" />
      </RememProvider>,
    )
    await waitFor(() => expect(names()).toEqual(['Bob']))
    await waitFor(() =>
      expect(theirs.memory('owned').presence.others.map((peer) => peer.state)).toEqual([
        { name: 'Ada' },
      ]),
    )
    cleanup()
    // The provider closes its client after unmounting: Ada leaves.
    await waitFor(() => expect(theirs.memory('owned').presence.others).toEqual([]), {
      timeout: 3000,
    })
  })
})
