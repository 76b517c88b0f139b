/** OwnAppends: which broadcast entries a room appended itself (see OwnAppends.ts). */
import { expect, it } from 'vitest'
import { OwnAppends } from '../OwnAppends.ts'

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

it('knows an echo by its id after the reply, and forgets older ids the room caught up past', () => {
  const own = new OwnAppends()
  own.begin(bytes(1))
  own.end(['5-0'], '4-0')
  own.begin(bytes(2))
  own.end(['7-0', '7-1'], '4-0')
  // Another relay's 6-0: 5-0 came back through the log instead, and is forgotten.
  expect(own.take('6-0', bytes(9))).toBe(false)
  expect(own.size).toBe(2)
  expect(own.take('7-0', bytes(2))).toBe(true)
  expect(own.take('7-1', bytes(2))).toBe(true)
  expect(own.size).toBe(0)
  expect(own.take('8-0', bytes(2))).toBe(false)
})

it('knows an echo that comes before the reply by its bytes, and keeps no id the room is past', () => {
  const own = new OwnAppends()
  own.begin(bytes(1, 2, 3))
  expect(own.take('5-0', bytes(1, 2, 4))).toBe(false)
  expect(own.take('5-0', bytes(1, 2, 3))).toBe(true)
  own.end(['5-0'], '5-0')
  expect(own.size).toBe(0)
  // A failed append: its bytes are no longer recognised.
  own.begin(bytes(4))
  own.end(null, '5-0')
  expect(own.take('6-0', bytes(4))).toBe(false)
})

it('forgets everything when the document is replaced', () => {
  const own = new OwnAppends()
  own.begin(bytes(1))
  own.end(['5-0'], '0-0')
  own.begin(bytes(2))
  own.clear()
  expect(own.take('5-0', bytes(2))).toBe(false)
  expect(own.size).toBe(0)
})
