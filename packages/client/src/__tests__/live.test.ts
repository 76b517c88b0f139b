import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { isLive, live, unwrapLive } from '../live.ts'
import { toJson } from '../model/validate.ts'
import { SyncedList } from '../SyncedList.ts'
import { createViews, list, stateOf } from './helpers/views.ts'

type Todo = { text: string; done?: boolean }
type State = {
  cpu?: number
  settings: { theme: string; size?: number }
  todos: Todo[]
  [key: string]: unknown
}

function setup() {
  const views = createViews()
  views.root
    .set('cpu', 0.5)
    .set('settings', { theme: 'dark' })
    .set('todos', [{ text: 'a' }])
  return { ...views, state: live<State>(views.root) }
}

describe('live dict', () => {
  it('reads values and nested live views, the same object each time', () => {
    const { state, root } = setup()
    expect(state.cpu).toBe(0.5)
    expect(state.settings.theme).toBe('dark')
    expect(state.settings).toBe(state.settings)
    expect(state.todos).toBe(state.todos)
    expect(state.todos[0]).toBe(state.todos[0])
    expect(state['missing']).toBeUndefined()
    expect(isLive(state.settings)).toBe(true)
    expect(unwrapLive(state.settings)).toBe(root.get('settings'))
    expect(unwrapLive(state)).toBe(root)
    expect(live(root)).toBe(state)
    expect(live(state as never)).toBe(state)
    expect(isLive(root.toJSON())).toBe(false)
    expect(unwrapLive(42)).toBeUndefined()
  })

  it('sets, deletes and checks keys', () => {
    const { state, root } = setup()
    state.cpu = 0.7
    expect(root.get('cpu')).toBe(0.7)
    state.settings.size = 2
    expect(root.toJSON()['settings']).toEqual({ theme: 'dark', size: 2 })
    state.settings = { theme: 'light' }
    expect(state.settings.size).toBeUndefined()
    expect('cpu' in state).toBe(true)
    expect(delete state.cpu).toBe(true)
    expect(root.has('cpu')).toBe(false)
    expect('cpu' in state).toBe(false)
    expect(delete state['never']).toBe(true)
    Object.assign(state, { a: 1, b: [2] })
    expect(root.toJSON()).toEqual({
      settings: { theme: 'light' },
      todos: [{ text: 'a' }],
      a: 1,
      b: [2],
    })
    Object.defineProperty(state, 'c', { value: 3 })
    expect(root.get('c')).toBe(3)
  })

  it('lists keys, spreads and serialises like a plain object', () => {
    const { state, root } = setup()
    expect(Object.keys(state)).toEqual(['cpu', 'settings', 'todos'])
    expect(Object.entries(state.settings)).toEqual([['theme', 'dark']])
    expect(JSON.stringify(state)).toBe(JSON.stringify(root.toJSON()))
    expect({ ...state.settings }).toEqual({ theme: 'dark' })
    expect(Object.getOwnPropertyDescriptor(state, 'cpu')).toEqual({
      value: 0.5,
      writable: true,
      enumerable: true,
      configurable: true,
    })
    expect(Object.hasOwn(state, 'cpu')).toBe(true)
    expect(Object.hasOwn(state, 'toString')).toBe(false)
    expect(String(state)).toBe('[object Object]')
  })

  it('keeps data keys apart from Object.prototype', () => {
    const { state: typed, root } = setup()
    const state = typed as Record<string, unknown>
    state['toString'] = 'data'
    state['__proto__'] = { x: 1 }
    expect(state['toString']).toBe('data')
    expect(root.get('toString')).toBe('data')
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype)
    expect(root.toJSON()['__proto__']).toEqual({ x: 1 })
  })

  it('validates writes like SyncedDict.set, and changes nothing on error', () => {
    const { state, doc } = setup()
    const before = stateOf(doc)
    expect(() => {
      state.cpu = NaN
    }).toThrow(new ValidationError('cpu is NaN: use a finite number or null', 'cpu'))
    expect(() => {
      state.settings = { theme: 'x', when: new Date() } as never
    }).toThrow('settings.when is a Date')
    expect(() => {
      ;(state as Record<symbol, unknown>)[Symbol('s')] = 1
    }).toThrow(ValidationError)
    expect(() => Object.defineProperty(state, 'g', { get: () => 1 })).toThrow(TypeError)
    expect(() => Object.freeze(state)).toThrow(TypeError)
    expect(stateOf(doc)).toBe(before)
  })

  it('copies live values written into the memory', () => {
    const { state, root } = setup()
    state['copy'] = state.settings
    expect(root.get('copy')).not.toBe(root.get('settings'))
    expect(state['copy']).toEqual({ theme: 'dark' })
    expect(toJson(state.todos)).toEqual([{ text: 'a' }])
  })
})

describe('live list', () => {
  it('reads items, length, and behaves as an array', () => {
    const { state, root } = setup()
    state.todos.push({ text: 'b' }, { text: 'c' })
    const todos = state.todos
    expect(todos.length).toBe(3)
    expect(todos[1]!.text).toBe('b')
    expect(todos[3]).toBeUndefined()
    expect(Array.isArray(todos)).toBe(true)
    expect(unwrapLive(todos)).toBeInstanceOf(SyncedList)
    expect([...todos].map((t) => t.text)).toEqual(['a', 'b', 'c'])
    const texts: string[] = []
    for (const todo of todos) texts.push(todo.text)
    expect(texts).toEqual(['a', 'b', 'c'])
    expect(JSON.stringify(todos)).toBe(JSON.stringify(list(root, 'todos').toJSON()))
    expect(JSON.stringify(state)).toBe(JSON.stringify(root.toJSON()))
    expect(Object.keys(todos)).toEqual(['0', '1', '2'])
    expect(0 in todos).toBe(true)
    expect(3 in todos).toBe(false)
  })

  it('runs read-only array methods over live items', () => {
    const { state } = setup()
    state.todos.push({ text: 'b', done: true }, { text: 'c' })
    const todos = state.todos
    expect(todos.map((t) => t.text)).toEqual(['a', 'b', 'c'])
    expect(todos.filter((t) => t.done)).toEqual([todos[1]])
    expect(todos.find((t) => t.text === 'c')).toBe(todos[2])
    expect(todos.findIndex((t) => t.text === 'c')).toBe(2)
    expect(todos.some((t) => t.done)).toBe(true)
    expect(todos.every((t) => t.done)).toBe(false)
    expect(todos.indexOf(todos[1]!)).toBe(1)
    expect(todos.includes(todos[2]!)).toBe(true)
    expect(todos.slice(1)).toEqual([todos[1], todos[2]])
    expect(todos.at(-1)).toBe(todos[2])
    const seen: number[] = []
    todos.forEach((_, i) => seen.push(i))
    expect(seen).toEqual([0, 1, 2])
    expect(todos.reduce((n, t) => n + t.text.length, 0)).toBe(3)
  })

  it('writes through list methods and index assignment', () => {
    const { state, root } = setup()
    const todos = state.todos
    expect(todos.push({ text: 'b' })).toBe(2)
    todos[0] = { text: 'A' }
    todos[2] = { text: 'c' } // at length: appends
    expect(todos.unshift({ text: 'z' })).toBe(4)
    const ops = todos as unknown as {
      insert(index: number, ...values: unknown[]): void
      move(from: number, to: number): void
    }
    ops.insert(1, { text: 'y' })
    ops.move(0, 4)
    expect(root.toJSON()['todos']).toEqual([
      { text: 'y' },
      { text: 'A' },
      { text: 'b' },
      { text: 'c' },
      { text: 'z' },
    ])
    expect(todos.pop()).toEqual({ text: 'z' })
    expect(todos.shift()).toEqual({ text: 'y' })
    expect(todos.splice(1, 1, { text: 'B' })).toEqual([{ text: 'b' }])
    expect(root.toJSON()['todos']).toEqual([{ text: 'A' }, { text: 'B' }, { text: 'c' }])
    expect(todos.splice(0, undefined as never)).toEqual([])
    expect(todos.splice(1)).toEqual([{ text: 'B' }, { text: 'c' }])
    todos.push({ text: 'B' })
    todos.length = 1
    expect(root.toJSON()['todos']).toEqual([{ text: 'A' }])
    todos[0]!.done = true
    expect(root.toJSON()['todos']).toEqual([{ text: 'A', done: true }])
  })

  it('refuses writes a synced list cannot make, and invalid values, changing nothing', () => {
    const { state, doc } = setup()
    const todos = state.todos
    const before = stateOf(doc)
    expect(() => {
      todos[5] = { text: 'x' }
    }).toThrow(RangeError)
    expect(() => {
      todos.length = 5
    }).toThrow('a synced list can only be shortened')
    expect(() => {
      delete todos[0]
    }).toThrow('use list.splice(index, 1)')
    expect(() => todos.sort()).toThrow('sort() is not supported on a synced list')
    expect(() => todos.reverse()).toThrow(TypeError)
    expect(() => todos.push({ text: 'x', due: new Date() } as never)).toThrow(
      new ValidationError(
        '[1].due is a Date: store it as a string or number (toISOString())',
        '[1].due',
      ),
    )
    expect(() => {
      todos[0] = { text: undefined } as never
    }).toThrow('[0].text is undefined')
    expect(() => {
      ;(todos as unknown as Record<string, unknown>)['extra'] = 1
    }).toThrow(TypeError)
    expect(stateOf(doc)).toBe(before)
  })
})
