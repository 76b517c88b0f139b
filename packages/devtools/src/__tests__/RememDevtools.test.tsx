/**
 * <RememDevtools> in jsdom against a real relay: closed by default behind its toggle, inside
 * a shadow root (nothing in the page's tree, nothing in its flow); opened and closed with the
 * keyboard, focus following; resized with the arrow keys; memories chosen with the arrow
 * keys; a leaf edited in place as a normal write that another client receives; a write the
 * client refuses (read-only) shown next to the leaf; the offline switch; a run of acks as one
 * timeline entry.
 */
import { type RememClient, createClient } from '@remem/client'
import { type RelayHandle, createRelay, createToken, silentLogger } from '@remem/server'
import { act, cleanup, fireEvent, render, waitFor, within } from '@testing-library/react'
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RememDevtools } from '../RememDevtools.tsx'

const SECRET = 'devtools-unit-secret-0123456789-abcdef'
let relay: RelayHandle
let token: { write: string; read: string }
const clients: RememClient[] = []

beforeAll(async () => {
  relay = await createRelay({ port: 0, host: '127.0.0.1', logger: silentLogger, secret: SECRET })
  token = {
    write: await createToken(SECRET, { memories: '*', access: 'write' }),
    read: await createToken(SECRET, { memories: '*', access: 'read' }),
  }
})

afterAll(async () => {
  await relay?.close()
})

afterEach(async () => {
  cleanup()
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

function client(access: 'write' | 'read' = 'write'): RememClient {
  const made = createClient({
    url: relay.url,
    WebSocket,
    storage: 'memory',
    token: token[access],
    backoff: { minMs: 20, maxMs: 200 },
    onError: () => undefined,
  })
  clients.push(made)
  return made
}

/** The panel's shadow root, queried like a container. */
function shadow(): HTMLElement {
  const host = document.querySelector('[data-remem-devtools]')
  if (!host?.shadowRoot) throw new Error('no devtools host with a shadow root in <body>')
  return host.shadowRoot as unknown as HTMLElement
}
const active = (): Element | null => (shadow() as unknown as ShadowRoot).activeElement

describe('<RememDevtools>', () => {
  it('is closed behind a toggle, isolated in a shadow root, and opens and closes with the keyboard', async () => {
    const c = client()
    c.memory('board')
    const { container } = render(
      <main>
        <p>app</p>
        <RememDevtools client={c} />
      </main>,
    )
    await waitFor(() => within(shadow()).getByRole('button', { name: 'open remem devtools' }))
    // Nothing in the app's tree or flow: the host is a fixed, empty element at the end of <body>.
    expect(container.innerHTML).toBe('<main><p>app</p></main>')
    const host = document.querySelector<HTMLElement>('[data-remem-devtools]')!
    expect(host.parentElement).toBe(document.body)
    expect(host.style.position).toBe('fixed')
    expect(within(shadow()).queryByRole('dialog')).toBeNull()

    fireEvent.click(within(shadow()).getByRole('button', { name: 'open remem devtools' }))
    const panel = within(shadow()).getByRole('dialog', { name: 'remem devtools' })
    expect(active()).toBe(panel)
    expect(within(panel).getByRole('tab', { name: 'board' }).getAttribute('aria-selected')).toBe(
      'true',
    )

    fireEvent.keyDown(panel, { key: 'Escape' })
    expect(within(shadow()).queryByRole('dialog')).toBeNull()
    expect(active()).toBe(within(shadow()).getByRole('button', { name: 'open remem devtools' }))
  })

  it('resizes with the arrow keys and moves between memories with them', () => {
    const c = client()
    c.memory('one')
    c.memory('two')
    render(<RememDevtools client={c} initialIsOpen initialHeight={300} />)
    const panel = within(shadow()).getByRole('dialog')
    const edge = within(panel).getByRole('separator')
    fireEvent.keyDown(edge, { key: 'ArrowUp' })
    expect(edge.getAttribute('aria-valuenow')).toBe('324')
    expect(panel.style.height).toBe('324px')
    for (let i = 0; i < 20; i++) fireEvent.keyDown(edge, { key: 'ArrowDown' })
    expect(edge.getAttribute('aria-valuenow')).toBe('120')

    const one = within(panel).getByRole('tab', { name: 'one' })
    expect(one.getAttribute('aria-selected')).toBe('true')
    fireEvent.keyDown(one, { key: 'ArrowDown' })
    const two = within(panel).getByRole('tab', { name: 'two' })
    expect(two.getAttribute('aria-selected')).toBe('true')
    expect(active()).toBe(two)
    expect(within(panel).getByRole('tabpanel').getAttribute('aria-label')).toBe('memory two')
  })

  it('edits a leaf in place as a normal write that reaches another client', async () => {
    const c = client()
    const board = c.memory('board')
    board.set('title', 'plans')
    board.set('items', [{ text: 'a', done: false }])
    await board.whenSynced()
    const other = client().memory('board')
    render(<RememDevtools client={c} initialIsOpen />)
    const tree = within(shadow()).getByRole('list', { name: 'value of board' })

    fireEvent.click(
      within(tree).getByRole('button', { name: 'edit board: items[0].done, now false' }),
    )
    const field = within(tree).getByRole('textbox', {
      name: /^new value of board: items\[0\]\.done/,
    })
    expect(active()).toBe(field)
    fireEvent.change(field, { target: { value: 'true' } })
    fireEvent.keyDown(field, { key: 'Enter' })
    await within(tree).findByRole('button', { name: 'edit board: items[0].done, now true' })

    // Plain text that is not JSON is written as a string; Escape writes nothing.
    fireEvent.click(within(tree).getByRole('button', { name: /^edit board: title/ }))
    const title = within(tree).getByRole('textbox')
    fireEvent.change(title, { target: { value: 'new plans' } })
    fireEvent.keyDown(title, { key: 'Enter' })
    fireEvent.click(within(tree).getByRole('button', { name: /^edit board: items\[0\]\.text/ }))
    fireEvent.change(within(tree).getByRole('textbox'), { target: { value: 'ignored' } })
    fireEvent.keyDown(within(tree).getByRole('textbox'), { key: 'Escape' })

    await act(() => board.whenSynced())
    expect(board.toJSON()).toEqual({ title: 'new plans', items: [{ text: 'a', done: true }] })
    await waitFor(() => expect(other.toJSON()).toEqual(board.toJSON()))
  })

  it('shows a write the client refuses (read-only) next to the leaf, and changes nothing', async () => {
    const writer = client().memory('shared')
    writer.set('n', 1)
    await writer.whenSynced()
    const reader = client('read')
    const shared = reader.memory('shared')
    await waitFor(() => expect(shared.access).toBe('read'))
    await waitFor(() => expect(shared.get('n')).toBe(1))
    render(<RememDevtools client={reader} initialIsOpen />)
    const tree = within(shadow()).getByRole('list', { name: 'value of shared' })
    fireEvent.click(within(tree).getByRole('button', { name: /^edit shared: n/ }))
    fireEvent.change(within(tree).getByRole('textbox'), { target: { value: '2' } })
    fireEvent.keyDown(within(tree).getByRole('textbox'), { key: 'Enter' })
    expect(within(tree).getByRole('alert').textContent).toMatch(/read-only/)
    expect(shared.get('n')).toBe(1)
  })

  it('shows a run of acks as one timeline entry with its count', async () => {
    const c = client()
    const mem = c.memory('acks')
    for (let i = 0; i < 3; i++) {
      mem.set('k', i)
      await mem.whenSynced()
    }
    render(<RememDevtools client={c} initialIsOpen />)
    const acks = within(shadow()).getByTestId('devtools-timeline').querySelectorAll('[data-kind="ack"]')
    expect([...acks].map((entry) => entry.textContent)).toEqual([
      expect.stringMatching(/ackacks ack up to seq 3 ×3$/),
    ])
  })

  it('the offline switch takes the client offline and back', async () => {
    const c = client()
    const mem = c.memory('board')
    await waitFor(() => expect(mem.status.connection).toBe('online'))
    render(<RememDevtools client={c} initialIsOpen />)
    const toggle = within(shadow()).getByRole('switch', { name: /offline/ })
    expect(toggle.getAttribute('aria-checked')).toBe('false')
    fireEvent.click(toggle)
    expect(toggle.getAttribute('aria-checked')).toBe('true')
    expect(c.inspector.offline).toBe(true)
    await waitFor(() =>
      expect(within(shadow()).getByTestId('devtools-connection').textContent).toBe('offline'),
    )
    act(() => {
      mem.set('k', 1)
    })
    await waitFor(() =>
      expect(within(shadow()).getAllByTestId('devtools-pending-change')).toHaveLength(1),
    )
    fireEvent.click(toggle)
    await waitFor(() =>
      expect(within(shadow()).getByTestId('devtools-pending').textContent).toBe('0'),
    )
    expect(
      within(shadow()).getByTestId('devtools-timeline').querySelector('[data-kind="offline"]'),
    ).not.toBeNull()
  })
})
