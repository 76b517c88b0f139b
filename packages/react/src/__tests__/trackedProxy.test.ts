import { describe, expect, it } from 'vitest'
import { type Affected, TrackedProxies, isChanged } from '../trackedProxy.ts'

type State = {
  a?: number
  b?: number
  todos?: Array<{ text: string; done?: boolean }>
  [key: string]: unknown
}

const freeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) freeze(child)
    Object.freeze(value)
  }
  return value
}

function track(snapshot: object, liveRoot: () => object = () => ({})) {
  const affected: Affected = new WeakMap()
  const state = new TrackedProxies(liveRoot).root<State>(snapshot, affected)
  return { state, affected }
}

describe('read tracking', () => {
  const base = freeze({ a: 1, b: 1, todos: [{ text: 'x' }, { text: 'y' }] }) as State

  it('sees a change of what was read, and nothing else', () => {
    const { state, affected } = track(base)
    expect(state.a).toBe(1)
    expect(isChanged(base, freeze({ ...base, b: 2 }), affected)).toBe(false)
    expect(isChanged(base, freeze({ ...base, a: 2 }), affected)).toBe(true)
  })

  it('follows nested reads into unchanged and changed nodes', () => {
    const { state, affected } = track(base)
    expect(state.todos![1]!.text).toBe('y')
    const todos = base.todos!
    const otherChanged = freeze({ ...base, todos: [{ text: 'X' }, todos[1]!] })
    expect(isChanged(base, otherChanged, affected)).toBe(false)
    const readChanged = freeze({ ...base, todos: [todos[0]!, { text: 'Y' }] })
    expect(isChanged(base, readChanged, affected)).toBe(true)
  })

  it('tracks `in`, the list of keys, and a node used whole', () => {
    const withC = freeze({ ...base, c: 1 })
    const has = track(base)
    expect('c' in has.state).toBe(false)
    expect(isChanged(base, withC, has.affected)).toBe(true)
    expect(isChanged(base, freeze({ ...base, a: 5 }), has.affected)).toBe(false)

    const keys = track(base)
    expect(Object.keys(keys.state)).toEqual(['a', 'b', 'todos'])
    expect(isChanged(base, withC, keys.affected)).toBe(true)
    expect(isChanged(base, freeze({ ...base, a: 5 }), keys.affected)).toBe(false)

    const whole = track(base)
    void whole.state.todos // reached, not read into: a new list counts as a change
    expect(isChanged(base, freeze({ ...base, todos: [...base.todos!] }), whole.affected)).toBe(true)
  })

  it('reads through array methods, JSON.stringify and spread', () => {
    const { state, affected } = track(base)
    expect(state.todos!.map((todo) => todo.text)).toEqual(['x', 'y'])
    expect(JSON.stringify(state)).toBe(JSON.stringify(base))
    expect({ ...state.todos![0] }).toEqual({ text: 'x' })
    expect(Array.isArray(state.todos)).toBe(true)
    expect([...state.todos!].length).toBe(2)
    expect(
      isChanged(base, freeze({ ...base, todos: [...base.todos!, { text: 'z' }] }), affected),
    ).toBe(true)
  })

  it('gives the same proxy for an unchanged node, rebound to the new reads', () => {
    const proxies = new TrackedProxies(() => ({}))
    const first = proxies.root<State>(base, new WeakMap())
    const next = freeze({ ...base, a: 2 })
    const affected: Affected = new WeakMap()
    const second = proxies.root<State>(next, affected)
    expect(second.todos).toBe(first.todos)
    expect(second.todos![0]!.text).toBe('x')
    expect(
      isChanged(next, freeze({ ...next, todos: [{ text: 'X' }, next.todos![1]!] }), affected),
    ).toBe(true)
  })
})

describe('writes', () => {
  it('go to the live object at the same path', () => {
    const liveRoot = { a: 1, todos: [{ text: 'x' }] as Array<{ text: string; done?: boolean }> }
    const { state } = track(freeze({ a: 1, todos: [{ text: 'x' }] }), () => liveRoot)
    state.b = 2
    state.todos!.push({ text: 'y' })
    state.todos![0]!.done = true
    delete state.a
    expect(liveRoot).toEqual({ b: 2, todos: [{ text: 'x', done: true }, { text: 'y' }] })
    // Reads stay those of the snapshot (of the render).
    expect(state.a).toBe(1)
  })

  it('say which path is gone', () => {
    const { state } = track(freeze({ todos: [{ text: 'x' }] }), () => ({ todos: [] }))
    const todo = state.todos![0]!
    expect(() => (todo.done = true)).toThrow(
      /cannot write to state.todos\[0\]: state.todos\[0\] is no longer/,
    )
  })
})
