/** compareIds: log ids compared as (ms, seq) numbers of any size, never as strings. */
import { expect, it } from 'vitest'
import { compareIds } from '../Store.ts'

/** The reference: both parts as BigInt (what compareIds computed before it stopped parsing). */
function reference(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt)
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt)
  if (am !== bm) return am < bm ? -1 : 1
  return as === bs ? 0 : as < bs ? -1 : 1
}

it('orders ids by milliseconds, then sequence, as numbers', () => {
  expect(compareIds('0-0', '0-0')).toBe(0)
  expect(compareIds('9-0', '10-0')).toBe(-1)
  expect(compareIds('10-0', '9-99')).toBe(1)
  expect(compareIds('5-9', '5-10')).toBe(-1)
  expect(compareIds('1700000000000-18446744073709551615', '1700000000001-0')).toBe(-1)
  expect(compareIds('5', '5-0')).toBe(0)
  expect(compareIds('007-1', '7-01')).toBe(0)
})

it('agrees with a BigInt comparison on random ids', () => {
  const part = (): string => String(Math.floor(Math.random() ** 3 * 10 ** (1 + Math.floor(Math.random() * 15))))
  for (let i = 0; i < 5_000; i++) {
    const a = `${part()}-${part()}`
    const b = Math.random() < 0.2 ? a.replace(/-.*/, `-${part()}`) : `${part()}-${part()}`
    expect(Math.sign(compareIds(a, b)), `${a} vs ${b}`).toBe(reference(a, b))
  }
})
