import { describe, expect, it } from 'vitest'
import { OpeningsOfSession } from '../OpeningsOfSession.ts'

describe('OpeningsOfSession', () => {
  it('behaves as a map whether it holds one entry or several', () => {
    const openings = new OpeningsOfSession<number>()
    expect(openings.size).toBe(0)
    expect(openings.get('a')).toBeUndefined()
    openings.set('a', 1)
    openings.set('a', 2)
    expect([openings.size, openings.get('a'), openings.get('b')]).toEqual([1, 2, undefined])
    openings.delete('b')
    expect(openings.names()).toEqual(['a'])
    // A second name: both kept, in the order they were opened.
    openings.set('b', 3)
    openings.set('c', 4)
    expect(openings.names()).toEqual(['a', 'b', 'c'])
    expect([openings.get('a'), openings.get('b'), openings.get('c')]).toEqual([2, 3, 4])
    openings.delete('a')
    expect([openings.size, openings.get('a')]).toEqual([2, undefined])
    // names() is a copy: deleting while walking it is safe.
    for (const name of openings.names()) openings.delete(name)
    expect(openings.size).toBe(0)
    openings.delete('x')
    openings.set('d', 5)
    expect(openings.names()).toEqual(['d'])
  })

  it('forgets its only entry when it is deleted', () => {
    const openings = new OpeningsOfSession<string>()
    openings.set('a', 'x')
    openings.delete('a')
    expect([openings.size, openings.get('a'), openings.names()]).toEqual([0, undefined, []])
    openings.set('b', 'y')
    expect([openings.size, openings.get('b')]).toEqual([1, 'y'])
  })
})
