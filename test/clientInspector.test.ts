/**
 * `client.inspector` (what @remem/devtools shows) against a real relay: the timeline of a
 * connect, the offline switch holding changes in the queue and releasing them, and a
 * refusal by the relay naming its reason on the timeline and on the changes it holds back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RememClient } from '@remem/client'
import { type RelayHandle, createToken } from '@remem/server'
import { connect, eventually, startRelay } from './helpers.ts'

const SECRET = 'inspector-secret-0123456789-abcdefghij'
const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relay(options: Parameters<typeof startRelay>[0] = {}): Promise<RelayHandle> {
  const started = await startRelay(options)
  cleanups.push(() => started.close())
  return started
}

function client(
  url: string,
  options: Parameters<typeof connect>[1] = {},
): RememClient & { errors: Error[] } {
  const made = connect(url, { storage: 'memory', ...options })
  cleanups.push(() => made.close())
  return made
}

const kinds = (c: RememClient): string[] =>
  c.inspector.getSnapshot().timeline.map((event) => event.kind)

describe('client.inspector', () => {
  it('records a connect, the handshake, access and acks with times', async () => {
    const { url } = await relay()
    const c = client(url)
    const todos = c.memory('todos')
    todos.set('a', 1)
    await todos.whenSynced()
    expect(kinds(c)).toEqual(
      expect.arrayContaining(['connecting', 'open', 'handshake', 'access', 'ack']),
    )
    const access = c.inspector.getSnapshot().timeline.find((event) => event.kind === 'access')
    expect(access).toMatchObject({ memory: 'todos', text: 'access: write' })
    expect(access!.at).toBeGreaterThan(0)
    expect(c.inspector.getSnapshot().memories).toEqual(['todos'])
    expect(c.inspector.pending('todos')).toEqual([])
  })

  it('a run of acks of one memory is one timeline entry with a count', async () => {
    const { url } = await relay()
    const c = client(url)
    const todos = c.memory('todos')
    const notes = c.memory('notes')
    await Promise.all([todos.whenSynced(), notes.whenSynced()])
    const acks = (): Array<[string | null, string, number]> =>
      c.inspector
        .getSnapshot()
        .timeline.filter((event) => event.kind === 'ack')
        .map((event) => [event.memory, event.text, event.count])
    const before = acks().length
    for (let i = 1; i <= 5; i++) {
      todos.set('a', i)
      await todos.whenSynced()
    }
    const run = c.inspector.getSnapshot().timeline.at(-1)!
    expect(acks().slice(before)).toEqual([['todos', 'ack up to seq 5', 5]])
    // The entry keeps its id: the devtools list does not re-mount it.
    todos.set('a', 6)
    await todos.whenSynced()
    expect(c.inspector.getSnapshot().timeline.at(-1)).toMatchObject({ id: run.id, count: 6 })
    // Another memory's ack ends the run; the next ack of the first starts a new entry.
    notes.set('n', 1)
    await notes.whenSynced()
    todos.set('a', 7)
    await todos.whenSynced()
    expect(acks().slice(before)).toEqual([
      ['todos', 'ack up to seq 6', 6],
      ['notes', 'ack up to seq 1', 1],
      ['todos', 'ack up to seq 7', 1],
    ])
  })

  it('the offline switch queues changes and sends them when switched back', async () => {
    const { url } = await relay()
    const c = client(url)
    const other = client(url)
    const todos = c.memory('todos')
    await todos.whenSynced()
    await eventually(() => expect(todos.status.connection).toBe('online'))
    const before = c.inspector.getSnapshot()
    c.inspector.setOffline(true)
    expect(c.inspector.getSnapshot()).not.toBe(before)
    expect(c.inspector.offline).toBe(true)
    await eventually(() => expect(todos.status.connection).toBe('offline'))
    todos.set('a', 1)
    todos.set('b', 'two')
    await Promise.resolve()
    todos.set('c', true)
    expect(todos.status.pending).toBe(3)
    const pending = c.inspector.pending('todos')
    // The two writes of one task travel as one change; the next task's write is another.
    expect(pending.map((change) => [change.seq, change.writes])).toEqual([
      [1, 2],
      [2, 1],
    ])
    for (const change of pending) {
      expect(change.bytes).toBeGreaterThan(0)
      expect(change.since).toBeLessThanOrEqual(Date.now())
      expect(change.refused).toBeNull()
    }
    // Still offline after a backoff round: the switch, not the network, decides.
    await eventually(() => expect(kinds(c)).toContain('backoff'))
    expect(todos.status.pending).toBe(3)
    expect(other.memory('todos').get('a')).toBeUndefined()

    c.inspector.setOffline(false)
    await todos.whenSynced()
    expect(todos.status.pending).toBe(0)
    await eventually(() => expect(other.memory('todos').toJSON()).toEqual({ a: 1, b: 'two', c: true }))
    expect(kinds(c)).toEqual(expect.arrayContaining(['offline', 'dropped', 'online']))
    expect(kinds(c).lastIndexOf('open')).toBeGreaterThan(kinds(c).indexOf('online'))
  })

  it('shows a refusal with its reason on the timeline and on the changes it holds back', async () => {
    const { url } = await relay({ secret: SECRET })
    const write = await createToken(SECRET, { memories: 'todos', access: 'write' })
    const read = await createToken(SECRET, { memories: 'todos', access: 'read' })
    let token = write
    const c = client(url, { token: () => token })
    const todos = c.memory('todos')
    await eventually(() => expect(todos.access).toBe('write'))
    c.inspector.setOffline(true)
    todos.set('note', 'written offline')
    // The token loses write access before the change reaches the relay.
    token = read
    c.inspector.setOffline(false)
    await eventually(() => expect(kinds(c)).toContain('refused'))
    const refused = c.inspector.getSnapshot().timeline.find((event) => event.kind === 'refused')!
    expect(refused.memory).toBe('todos')
    expect(refused.text).toMatch(/^forbidden: /)
    const [change] = c.inspector.pending('todos')
    expect(change?.refused).toBe(refused.text)
    expect(todos.status.pending).toBe(1)
    expect(c.errors.some((error) => error.name === 'AuthError')).toBe(true)
  })
})
