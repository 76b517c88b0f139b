import type { RememClient, SyncedList } from '@remem/client'
import type { RelayHandle } from '@remem/server'
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { useState } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { useSharedMemory } from '../useSharedMemory.ts'
import { useSyncStatus } from '../useSyncStatus.ts'
import { connect, startRelay } from './helpers.ts'

type Todo = { text: string; done?: boolean }
type State = { a?: number; b?: number; todos?: Todo[]; [key: string]: unknown }

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

function open(): RememClient {
  const client = connect(relay)
  clients.push(client)
  return client
}

/** Counts the renders of each probe by name. */
function counter() {
  const counts: Record<string, number> = {}
  const count = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1
  }
  return { counts, count }
}

describe('useSharedMemory', () => {
  it('does not render a reader of state.a across 1,000 changes of state.b', async () => {
    const client = open()
    const mem = client.memory('counts')
    mem.update({ a: 1, b: 0 })
    const { counts, count } = counter()
    function ReadsA() {
      const state = useSharedMemory<State>('counts')
      count('a')
      return <p data-testid="a">{state.a}</p>
    }
    function ReadsB() {
      const state = useSharedMemory<State>('counts')
      count('b')
      return <p data-testid="b">{state.b}</p>
    }
    render(
      <RememProvider client={client}>
        <ReadsA />
        <ReadsB />
      </RememProvider>,
    )
    expect(screen.getByTestId('a').textContent).toBe('1')
    const before = { ...counts }

    for (let i = 1; i <= 1000; i++) {
      act(() => {
        mem.set('b', i)
      })
    }
    expect(screen.getByTestId('b').textContent).toBe('1000')
    expect(counts['b']! - before['b']!).toBe(1000) // the harness sees every render
    expect(counts['a']).toBe(before['a'])

    // Remote changes too: another client writes b 1,000 times (once it has the memory, so
    // that its writes are not concurrent with the ones above).
    const other = open().memory('counts')
    await waitFor(() => expect(other.status.connection).toBe('online'))
    for (let i = 1001; i <= 2000; i++) other.set('b', i)
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('2000'), {
      timeout: 15_000,
    })
    expect(counts['a']).toBe(before['a'])

    act(() => {
      mem.set('a', 2)
    })
    expect(screen.getByTestId('a').textContent).toBe('2')
    expect(counts['a']).toBe(before['a']! + 1)
  })

  it('does not render a reader of todos[3].text when todos[5] changes', () => {
    const client = open()
    const mem = client.memory('todos')
    mem.set(
      'todos',
      Array.from({ length: 8 }, (_, i) => ({ text: `t${i}`, done: false })),
    )
    const todos = () => mem.get<SyncedList>('todos')!
    const { counts, count } = counter()
    function Third() {
      const state = useSharedMemory<State>('todos')
      count('third')
      return <p data-testid="third">{state.todos?.[3]?.text}</p>
    }
    function All() {
      const state = useSharedMemory<State>('todos')
      count('all')
      return <p data-testid="all">{state.todos?.map((todo) => todo.text).join(',')}</p>
    }
    render(
      <RememProvider client={client}>
        <Third />
        <All />
      </RememProvider>,
    )
    expect(screen.getByTestId('third').textContent).toBe('t3')
    const before = { ...counts }

    act(() => {
      todos().set(5, { text: 'five', done: true })
    })
    expect(screen.getByTestId('all').textContent).toContain('five')
    expect(counts['all']).toBe(before['all']! + 1)
    expect(counts['third']).toBe(before['third'])

    // A field of todos[3] that it did not read: no render either.
    act(() => {
      todos().set(3, { text: 't3', done: true })
    })
    expect(counts['third']).toBe(before['third'])

    act(() => {
      todos().set(3, { text: 'three', done: true })
    })
    expect(screen.getByTestId('third').textContent).toBe('three')
    expect(counts['third']).toBe(before['third']! + 1)

    // Inserting before it moves another todo to index 3: that is a change of what it read.
    act(() => {
      todos().insert(0, { text: 'first' })
    })
    expect(screen.getByTestId('third').textContent).toBe('t2')
  })

  it('re-renders the reader in another component, and in another client, after a write', async () => {
    const client = open()
    const remote = open()
    function Writer() {
      const state = useSharedMemory<State>('shared')
      return (
        <>
          <button onClick={() => (state.b = (state.b ?? 0) + 1)}>inc</button>
          <button
            onClick={() =>
              state.todos ? state.todos.push({ text: 'x' }) : (state.todos = [{ text: 'x' }])
            }
          >
            add
          </button>
          <button onClick={() => state.todos && (state.todos[0]!.done = true)}>done</button>
          <button onClick={() => delete state.b}>delete</button>
        </>
      )
    }
    function Reader() {
      const state = useSharedMemory<State>('shared')
      return (
        <p data-testid="reader">
          {String(state.b)} {state.todos?.length ?? 0} {String(state.todos?.[0]?.done)}
        </p>
      )
    }
    function RemoteReader() {
      const state = useSharedMemory<State>('shared')
      return <p data-testid="remote">{JSON.stringify(state)}</p>
    }
    render(
      <>
        <RememProvider client={client}>
          <Writer />
          <Reader />
        </RememProvider>
        <RememProvider client={remote}>
          <RemoteReader />
        </RememProvider>
      </>,
    )
    const reader = screen.getByTestId('reader')
    fireEvent.click(screen.getByText('inc'))
    expect(reader.textContent).toBe('1 0 undefined')
    fireEvent.click(screen.getByText('inc'))
    fireEvent.click(screen.getByText('add'))
    fireEvent.click(screen.getByText('add'))
    expect(reader.textContent).toBe('2 2 undefined')
    fireEvent.click(screen.getByText('done'))
    expect(reader.textContent).toBe('2 2 true')
    expect(client.memory('shared').toJSON()).toEqual({
      b: 2,
      todos: [{ text: 'x', done: true }, { text: 'x' }],
    })
    await waitFor(() =>
      expect(JSON.parse(screen.getByTestId('remote').textContent!)).toEqual({
        b: 2,
        todos: [{ text: 'x', done: true }, { text: 'x' }],
      }),
    )
    fireEvent.click(screen.getByText('delete'))
    expect(reader.textContent).toBe('undefined 2 true')
    await waitFor(() =>
      expect(JSON.parse(screen.getByTestId('remote').textContent!)).not.toHaveProperty('b'),
    )
  })

  it('reads a key read for the first time fresh, after changes it skipped', () => {
    const client = open()
    const mem = client.memory('fresh')
    mem.update({ a: 1, b: 1 })
    let showB: (show: boolean) => void = () => {}
    function Probe() {
      const state = useSharedMemory<State>('fresh')
      const [show, setShow] = useState(false)
      showB = setShow
      return <p data-testid="probe">{show ? `${state.a} ${state.b}` : String(state.a)}</p>
    }
    render(
      <RememProvider client={client}>
        <Probe />
      </RememProvider>,
    )
    act(() => {
      mem.set('b', 2)
    })
    act(() => showB(true))
    expect(screen.getByTestId('probe').textContent).toBe('1 2')
  })

  it('keeps the identity of unchanged nodes across renders, and supports in, keys and spread', () => {
    const client = open()
    const mem = client.memory('identity')
    mem.update({ a: 1, todos: [{ text: 'x' }], settings: { theme: 'dark' } })
    const seen: unknown[] = []
    let output = ''
    function Probe() {
      const state = useSharedMemory<State>('identity')
      seen.push(state.todos)
      output = JSON.stringify({
        keys: Object.keys(state).sort(),
        has: 'settings' in state,
        spread: { ...(state['settings'] as object) },
        a: state.a,
      })
      return null
    }
    render(
      <RememProvider client={client}>
        <Probe />
      </RememProvider>,
    )
    act(() => {
      mem.set('a', 2)
    })
    expect(seen.length).toBeGreaterThanOrEqual(2)
    expect(seen.at(-1)).toBe(seen[0])
    expect(JSON.parse(output)).toEqual({
      keys: ['a', 'settings', 'todos'],
      has: true,
      spread: { theme: 'dark' },
      a: 2,
    })
    const renders = seen.length
    act(() => {
      mem.set('extra', true) // a new key: Object.keys read it
    })
    expect(seen.length).toBe(renders + 1)
  })

  it('renders the empty state until there is a client, and status connecting', () => {
    function Probe() {
      const state = useSharedMemory<State>('x')
      const status = useSyncStatus('x')
      return <p data-testid="probe">{`${JSON.stringify(state)} ${status.connection}`}</p>
    }
    const client = open()
    render(
      <RememProvider client={client}>
        <Probe />
      </RememProvider>,
    )
    expect(screen.getByTestId('probe').textContent).toBe('{} connecting')
  })

  it('names the provider when a hook is used outside one', () => {
    function Probe() {
      useSharedMemory('x')
      return null
    }
    const error = console.error
    console.error = () => {}
    try {
      expect(() => render(<Probe />)).toThrow(/inside a <RememProvider/)
    } finally {
      console.error = error
    }
  })
})
