/**
 * OwnWriteEvents drops a window's events only when they are exactly what the relay's own
 * writes caused and the barrier proved they all arrived; in every other case it passes on
 * everything it held, in order.
 */
import { describe, expect, it } from 'vitest'
import { OwnWriteEvents, eventsOfWrite } from '../store/OwnWriteEvents.ts'

function subject(barrier: () => Promise<boolean> = async () => true) {
  const delivered: string[] = []
  const own = new OwnWriteEvents((key, event) => delivered.push(`${key} ${event}`), barrier)
  own.subscribed()
  /** An event from the subscriber: held, or passed on at once. */
  const event = (key: string, name: string) => {
    if (!own.hold(key, name)) delivered.push(`${key} ${name}`)
  }
  return { own, delivered, event }
}

describe('OwnWriteEvents', () => {
  it("drops exactly the write's events, before or after its reply", async () => {
    const { own, delivered, event } = subject()
    own.open(['a', 'b'])
    event('a', 'set')
    await own.settle(
      [
        { fullKey: 'a', events: eventsOfWrite(false, undefined, true) },
        { fullKey: 'b', events: eventsOfWrite(false, Date.now() + 60_000, true) },
      ],
      true,
    )
    expect(delivered).toEqual([])
    // 'b' held nothing: its events were still on the way, so the window did not match.
    expect(own.stats).toEqual({ skipped: 1, delivered: 0 })
    event('b', 'set')
    expect(delivered).toEqual(['b set'])
  })

  it('predicts no events for an expiry that may be past, and passes on what it held then', async () => {
    expect(eventsOfWrite(false, 1_000, true, 500)).toBeNull()
    expect(eventsOfWrite(false, 10_000, true, 500)).toEqual(['set', 'expire'])
    expect(eventsOfWrite(true, undefined, true)).toEqual(['del'])
    expect(eventsOfWrite(false, undefined, false)).toEqual([])
    const { own, delivered, event } = subject()
    own.open(['a'])
    event('a', 'set')
    event('a', 'expire')
    await own.settle([{ fullKey: 'a', events: eventsOfWrite(false, Date.now(), true) }], true)
    expect(delivered).toEqual(['a set', 'a expire'])
  })

  it('passes on everything held when one more event came in the window', async () => {
    const { own, delivered, event } = subject()
    own.open(['a'])
    event('a', 'set')
    event('a', 'set')
    await own.settle([{ fullKey: 'a', events: ['set'] }], true)
    expect(delivered).toEqual(['a set', 'a set'])
  })

  it('passes on what it held when the write refused, failed, or the barrier did not return', async () => {
    for (const [events, ok, passed] of [
      [[], true, true],
      [['set'], false, true],
      [['set'], true, false],
    ] as const) {
      const { own, delivered, event } = subject(async () => passed)
      own.open(['a'])
      event('a', 'set')
      await own.settle([{ fullKey: 'a', events: [...events] }], ok)
      expect(delivered).toEqual(['a set'])
    }
  })

  it('drops nothing across a lost connection, until subscribed again', async () => {
    const { own, delivered, event } = subject()
    own.open(['a'])
    own.connectionLost()
    event('a', 'set')
    await own.settle([{ fullKey: 'a', events: ['set'] }], true)
    expect(delivered).toEqual(['a set'])
    own.open(['a'])
    event('a', 'set')
    await own.settle([{ fullKey: 'a', events: ['set'] }], true)
    expect(delivered).toEqual(['a set', 'a set'])
    own.subscribed()
    own.open(['a'])
    event('a', 'set')
    await own.settle([{ fullKey: 'a', events: ['set'] }], true)
    expect(delivered).toEqual(['a set', 'a set'])
  })
})
