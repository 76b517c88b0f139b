import { describe, expect, it } from 'vitest'
import { matchesMemory } from '../auth/token.ts'

describe('matchesMemory', () => {
  it('matches exact names and prefixes ending in *', () => {
    expect(matchesMemory(['board'], 'board')).toBe(true)
    expect(matchesMemory(['board'], 'board2')).toBe(false)
    expect(matchesMemory(['team-*'], 'team-1')).toBe(true)
    expect(matchesMemory(['team-*'], 'team')).toBe(false)
    expect(matchesMemory(['*'], 'anything')).toBe(true)
    expect(matchesMemory([], 'board')).toBe(false)
  })
})
