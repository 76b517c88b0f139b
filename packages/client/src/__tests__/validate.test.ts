import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.ts'
import { live } from '../live.ts'
import { indexPath, keyPath } from '../model/path.ts'
import { toJson } from '../model/validate.ts'
import { createViews } from './helpers/views.ts'

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return error as ValidationError
  }
  throw new Error('expected a ValidationError')
}

class Foo {
  x = 1
}

describe('toJson', () => {
  it('accepts JSON to any depth and returns a copy', () => {
    const value = { a: [1, 'two', true, null, { b: [[{ c: -0.5 }]] }], d: {} }
    const json = toJson(value)
    expect(json).toEqual(value)
    expect(json).not.toBe(value)
    expect((json as { d: object }).d).not.toBe(value.d)
    expect(toJson(null)).toBe(null)
    expect(toJson('s')).toBe('s')
    expect(toJson(0)).toBe(0)
  })

  it('accepts objects without a prototype and shared (not circular) references', () => {
    const bare = Object.create(null) as Record<string, unknown>
    bare['x'] = 1
    const shared = { y: 2 }
    expect(toJson({ bare, p: shared, q: [shared, shared] })).toEqual({
      bare: { x: 1 },
      p: { y: 2 },
      q: [{ y: 2 }, { y: 2 }],
    })
  })

  it('keeps a "__proto__" key as data', () => {
    const json = toJson(JSON.parse('{"__proto__": {"x": 1}, "a": 2}')) as Record<string, unknown>
    expect(Object.keys(json)).toEqual(['__proto__', 'a'])
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype)
    expect(JSON.stringify(json)).toBe('{"__proto__":{"x":1},"a":2}')
  })

  it.each([
    [
      { todos: [1, 2, 3, { due: new Date(0) }] },
      'todos[3].due',
      'todos[3].due is a Date: store it as a string or number (toISOString())',
    ],
    [{ cpu: NaN }, 'cpu', 'cpu is NaN: use a finite number or null'],
    [{ a: { b: undefined } }, 'a.b', 'a.b is undefined: use null or delete the key'],
    [{ x: () => 1 }, 'x', 'x is a function: store data only'],
    [{ x: 10n }, 'x', 'x is a BigInt: convert it to a number or a string'],
    [{ x: new Map() }, 'x', 'x is a Map: use a plain object (Object.fromEntries(map))'],
    [{ x: new Set() }, 'x', 'x is a Set: use an array ([...set])'],
    [{ x: new Foo() }, 'x', 'x is an instance of Foo: use a plain object or array'],
    [{ x: /re/ }, 'x', 'x is an instance of RegExp: use a plain object or array'],
    [{ x: new Uint8Array(2) }, 'x', 'x is an instance of Uint8Array: use a plain object or array'],
    [{ x: Symbol('s') }, 'x', 'x is a symbol: use a string'],
    [{ x: [Infinity] }, 'x[0]', 'x[0] is Infinity: use a finite number or null'],
    [{ x: { y: -Infinity } }, 'x.y', 'x.y is -Infinity: use a finite number or null'],
    [{ x: { [Symbol('k')]: 1 } }, 'x', 'x has the symbol key Symbol(k): use string keys'],
    [
      { 'my key': { 'a-b': [0, NaN] } },
      '["my key"]["a-b"][1]',
      '["my key"]["a-b"][1] is NaN: use a finite number or null',
    ],
    // eslint-disable-next-line no-sparse-arrays
    [{ x: [1, , 3] }, 'x[1]', 'x[1] is an empty slot: use null'],
    [[undefined], '[0]', '[0] is undefined: use null'],
    [undefined, '', 'value is undefined: use null or delete the key'],
  ])('refuses %o at %s', (value, path, message) => {
    const error = errorOf(() => toJson(value))
    expect(error.message).toBe(message)
    expect(error.path).toBe(path)
    expect(error.code).toBe('validation')
  })

  it('names the path of a circular reference', () => {
    const a: Record<string, unknown> = { list: [] }
    a['self'] = a
    expect(errorOf(() => toJson({ a })).message).toBe(
      'a.self is a circular reference: store a copy or an id',
    )
    const list: unknown[] = [1]
    list.push({ back: list })
    expect(errorOf(() => toJson(list, 'l')).path).toBe('l[1].back')
  })

  it('starts paths at the given one', () => {
    expect(errorOf(() => toJson({ due: new Date() }, 'todos[3]')).path).toBe('todos[3].due')
  })

  it('converts synced views and live proxies to their JSON copy', () => {
    const { root } = createViews()
    root.set('d', { a: [1, { b: 2 }] }).set('l', [1, [2]])
    const d = root.get('d')
    const l = root.get('l')
    expect(toJson({ d, l })).toEqual({ d: { a: [1, { b: 2 }] }, l: [1, [2]] })
    const state = live<{ d: object; l: unknown[] }>(root)
    expect(toJson([state.d, state.l, state])).toEqual([
      { a: [1, { b: 2 }] },
      [1, [2]],
      { d: { a: [1, { b: 2 }] }, l: [1, [2]] },
    ])
  })
})

describe('paths', () => {
  it('writes identifiers with dots and other keys in brackets', () => {
    expect(keyPath('', 'todos')).toBe('todos')
    expect(keyPath('todos[3]', 'due')).toBe('todos[3].due')
    expect(keyPath('', 'my key')).toBe('["my key"]')
    expect(keyPath('a', '1x')).toBe('a["1x"]')
    expect(keyPath('a', '')).toBe('a[""]')
    expect(keyPath('a', '$_b9')).toBe('a.$_b9')
    expect(indexPath('', 0)).toBe('[0]')
    expect(indexPath('todos', 3)).toBe('todos[3]')
  })
})
