import type { RememClient } from '@remem/client'
import type { RelayHandle } from '@remem/server'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RememProvider } from '../RememProvider.tsx'
import { useSharedMemory } from '../useSharedMemory.ts'
import { useUndo } from '../useUndo.ts'
import { connect, startRelay } from './helpers.ts'

type State = { mine?: number; theirs?: number; todos?: Array<{ text: string; done?: boolean }> }

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

async function online(name: string): Promise<[RememClient, RememClient]> {
  const ours = connect(relay)
  const theirs = connect(relay)
  clients.push(ours, theirs)
  await waitFor(() => {
    expect(ours.memory(name).status.connection).toBe('online')
    expect(theirs.memory(name).status.connection).toBe('online')
  })
  return [ours, theirs]
}

function Editor({ name, id = '' }: { name: string; id?: string }) {
  const state = useSharedMemory<State>(name)
  const { undo, redo, canUndo, canRedo } = useUndo(name)
  return (
    <>
      <p data-testid={`state${id}`}>{JSON.stringify(state)}</p>
      <p data-testid={`can${id}`}>{`${String(canUndo)} ${String(canRedo)}`}</p>
      <button onClick={() => (state.mine = (state.mine ?? 0) + 1)}>edit{id}</button>
      <button
        onClick={() =>
          state.todos ? state.todos.push({ text: 'b' }) : (state.todos = [{ text: 'a' }])
        }
      >
        add{id}
      </button>
      <button onClick={() => state.todos && (state.todos[0]!.done = true)}>done{id}</button>
      <button onClick={undo}>undo{id}</button>
      <button onClick={redo}>redo{id}</button>
    </>
  )
}

const shown = (id = ''): unknown => JSON.parse(screen.getByTestId(`state${id}`).textContent!)

describe('useUndo', () => {
  it("undoes this client's last edit in both clients, and never a remote edit", async () => {
    const [ours, theirs] = await online('undo')
    render(
      <RememProvider client={ours}>
        <Editor name="undo" />
      </RememProvider>,
    )
    const remote = theirs.memory('undo')
    remote.set('theirs', 1)
    await waitFor(() => expect(shown()).toEqual({ theirs: 1 }))
    expect(screen.getByTestId('can').textContent).toBe('false false') // a remote edit is not ours

    fireEvent.click(screen.getByText('edit'))
    expect(shown()).toEqual({ theirs: 1, mine: 1 })
    expect(screen.getByTestId('can').textContent).toBe('true false')
    await waitFor(() => expect(remote.toJSON()).toEqual({ theirs: 1, mine: 1 }))

    remote.set('theirs', 2)
    await waitFor(() => expect(shown()).toEqual({ theirs: 2, mine: 1 }))

    fireEvent.click(screen.getByText('undo'))
    expect(shown()).toEqual({ theirs: 2 })
    expect(screen.getByTestId('can').textContent).toBe('false true')
    await waitFor(() => expect(remote.toJSON()).toEqual({ theirs: 2 }))

    fireEvent.click(screen.getByText('undo')) // nothing of ours is left: the remote edit stays
    expect(shown()).toEqual({ theirs: 2 })
    await ours.memory('undo').whenSynced()
    expect(remote.toJSON()).toEqual({ theirs: 2 })

    fireEvent.click(screen.getByText('redo'))
    expect(shown()).toEqual({ theirs: 2, mine: 1 })
    expect(screen.getByTestId('can').textContent).toBe('true false')
    await waitFor(() => expect(remote.toJSON()).toEqual({ theirs: 2, mine: 1 }))

    // Undoing an overwrite brings the old value back.
    fireEvent.click(screen.getByText('edit'))
    expect(shown()).toEqual({ theirs: 2, mine: 2 })
    fireEvent.click(screen.getByText('undo'))
    expect(shown()).toEqual({ theirs: 2, mine: 1 })
    await waitFor(() => expect(remote.toJSON()).toEqual({ theirs: 2, mine: 1 }))
  })

  it('undoes list and nested edits step by step, with one history for all components', async () => {
    const [ours, theirs] = await online('steps')
    render(
      <RememProvider client={ours}>
        <Editor name="steps" id="1" />
        <Editor name="steps" id="2" />
      </RememProvider>,
    )
    fireEvent.click(screen.getByText('add1'))
    fireEvent.click(screen.getByText('add2'))
    fireEvent.click(screen.getByText('done1'))
    expect(shown('2')).toEqual({ todos: [{ text: 'a', done: true }, { text: 'b' }] })

    fireEvent.click(screen.getByText('undo2'))
    expect(shown('1')).toEqual({ todos: [{ text: 'a' }, { text: 'b' }] })
    fireEvent.click(screen.getByText('undo1'))
    expect(shown('2')).toEqual({ todos: [{ text: 'a' }] })
    expect(screen.getByTestId('can1').textContent).toBe('true true')
    await waitFor(() => expect(theirs.memory('steps').toJSON()).toEqual({ todos: [{ text: 'a' }] }))

    // A new edit clears what could be redone.
    fireEvent.click(screen.getByText('edit2'))
    expect(screen.getByTestId('can1').textContent).toBe('true false')
  })

  it('clears the history when the memory moves to a new epoch', async () => {
    const [ours, theirs] = await online('epoch')
    render(
      <RememProvider client={ours}>
        <Editor name="epoch" />
      </RememProvider>,
    )
    fireEvent.click(screen.getByText('add'))
    fireEvent.click(screen.getByText('add'))
    await waitFor(() => expect(screen.getByTestId('can').textContent).toBe('true false'))
    await ours.memory('epoch').whenSynced()
    const room = relay.relay.rooms.get('epoch')!
    await room.whenCompacted()
    await room.compact(true)
    expect(room.epoch).toBe(1)
    await waitFor(() => expect(screen.getByTestId('can').textContent).toBe('false false'))
    // Undo now does nothing (it used to name items of the old document).
    fireEvent.click(screen.getByText('undo'))
    expect(shown()).toEqual({ todos: [{ text: 'a' }, { text: 'b' }] })
    // The history starts again in the new epoch.
    fireEvent.click(screen.getByText('done'))
    fireEvent.click(screen.getByText('undo'))
    expect(shown()).toEqual({ todos: [{ text: 'a' }, { text: 'b' }] })
    await waitFor(() =>
      expect(theirs.memory('epoch').toJSON()).toEqual({ todos: [{ text: 'a' }, { text: 'b' }] }),
    )
  })

  it('groups a transaction into one step', async () => {
    const [ours] = await online('grouped')
    render(
      <RememProvider client={ours}>
        <Editor name="grouped" />
      </RememProvider>,
    )
    const memory = ours.memory('grouped')
    await waitFor(() => expect(screen.getByTestId('can').textContent).toBe('false false'))
    memory.transact(() => {
      memory.set('mine', 1)
      memory.set('theirs', 1)
    })
    await waitFor(() => expect(screen.getByTestId('can').textContent).toBe('true false'))
    fireEvent.click(screen.getByText('undo'))
    expect(shown()).toEqual({})
  })
})
