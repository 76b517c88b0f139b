/** The README's React example (examples/react-board.tsx) against a real relay. */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, expect, it } from 'vitest'
import type { RelayHandle } from '@remem/server'
import { App } from '../../../../examples/react-board.tsx'
import { WebSocket, connect, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('renders the shared board, adds and toggles todos, and shows what another client wrote', async () => {
  const relay: RelayHandle = await startRelay()
  cleanups.push(() => relay.close())
  // Browsers have WebSocket; in Node the example's provider needs one on globalThis.
  const saved = globalThis.WebSocket
  ;(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket
  cleanups.push(async () => {
    ;(globalThis as { WebSocket?: unknown }).WebSocket = saved
  })
  const view = render(<App url={relay.url} />)
  cleanups.push(async () => view.unmount())
  await waitFor(() => expect(screen.getByRole('contentinfo').textContent).toBe('online, 0 pending'))
  expect(screen.getByRole('heading').textContent).toBe('Untitled')

  fireEvent.click(screen.getByRole('button', { name: 'Add' }))
  await waitFor(() => expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['new task']))
  fireEvent.click(screen.getByRole('listitem'))
  await waitFor(() => expect(screen.getByRole('listitem').textContent).toBe('✓ new task'))

  const other = connect(relay)
  cleanups.push(() => other.close())
  const board = other.memory('board')
  await waitFor(() => expect(board.toJSON()).toEqual({ todos: [{ text: 'new task', done: true }] }))
  await act(async () => {
    board.set('title', 'Sprint 12')
    await board.whenSynced()
  })
  await waitFor(() => expect(screen.getByRole('heading').textContent).toBe('Sprint 12'))
})
