/** The inspector's timeline: a bounded ring of events, where a run of one memory's acks is one entry. */
import { describe, expect, it } from 'vitest'
import { TIMELINE_LIMIT, Timeline } from '../inspect/Timeline.ts'

const entries = (timeline: Timeline): Array<[string, string | null, string, number]> =>
  timeline.events.map((event) => [event.kind, event.memory, event.text, event.count])

describe('Timeline', () => {
  it('merges only consecutive events of the same kind and memory', () => {
    const timeline = new Timeline()
    timeline.add('open', 'socket open')
    const first = timeline.merge('ack', 'ack up to seq 1', 'a')
    const second = timeline.merge('ack', 'ack up to seq 2', 'a')
    timeline.merge('ack', 'ack up to seq 1', 'b')
    timeline.add('closed', 'closed 1006')
    timeline.merge('ack', 'ack up to seq 3', 'a')
    expect(second.id).toBe(first.id)
    expect(Object.isFrozen(second)).toBe(true)
    expect(entries(timeline)).toEqual([
      ['open', null, 'socket open', 1],
      ['ack', 'a', 'ack up to seq 2', 2],
      ['ack', 'b', 'ack up to seq 1', 1],
      ['closed', null, 'closed 1006', 1],
      ['ack', 'a', 'ack up to seq 3', 1],
    ])
  })

  it('gives a new snapshot after a merge and keeps the ring bounded', () => {
    const timeline = new Timeline()
    timeline.merge('ack', 'ack up to seq 1', 'a')
    const before = timeline.events
    timeline.merge('ack', 'ack up to seq 2', 'a')
    expect(timeline.events).not.toBe(before)
    for (let i = 0; i < TIMELINE_LIMIT * 3; i++) timeline.merge('ack', `ack up to seq ${i}`, i % 2 ? 'a' : 'b')
    expect(timeline.events.length).toBeLessThanOrEqual(TIMELINE_LIMIT * 1.2)
    expect(timeline.events.at(-1)).toMatchObject({ memory: 'a', count: 1 })
  })
})
