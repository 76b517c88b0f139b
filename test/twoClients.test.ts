import { afterEach, describe, expect, it } from 'vitest'
import { connect, eventually, startRelay } from './helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('two clients on the embedded store', () => {
  it('converge', async () => {
    const relay = await startRelay()
    cleanups.push(() => relay.close())
    const a = connect(relay.url)
    const b = connect(relay.url)
    cleanups.push(() => a.close(), () => b.close())
    const ma = a.memory('smoke')
    const mb = b.memory('smoke')
    ma.set('cpu', 0.5)
    ma.set('todos', [{ text: 'a' }])
    await ma.whenSynced()
    expect(ma.status.pending).toBe(0)
    await eventually(() => expect(mb.toJSON()).toEqual({ cpu: 0.5, todos: [{ text: 'a' }] }))
  })
})
