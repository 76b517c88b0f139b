import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../createClient.ts'
import { NeverOpenSocket } from './helpers/NeverOpenSocket.ts'

type Listener = (event: Event) => void
const scope = globalThis as unknown as {
  addEventListener?: (type: string, listener: Listener) => void
  removeEventListener?: (type: string, listener: Listener) => void
}

afterEach(() => {
  delete scope.addEventListener
  delete scope.removeEventListener
})

describe('warnOnUnload', () => {
  it('registers beforeunload exactly while changes are pending', async () => {
    const listeners = new Set<Listener>()
    scope.addEventListener = (type, listener) => {
      if (type === 'beforeunload') listeners.add(listener)
    }
    scope.removeEventListener = (type, listener) => {
      if (type === 'beforeunload') listeners.delete(listener)
    }
    const client = createClient({
      url: 'ws://relay.invalid',
      WebSocket: NeverOpenSocket,
      warnOnUnload: true,
    })
    const mem = client.memory('unload')
    expect(listeners.size).toBe(0)
    mem.set('a', 1)
    expect(listeners.size).toBe(1)
    const event = new Event('beforeunload', { cancelable: true })
    for (const listener of listeners) listener(event)
    expect(event.defaultPrevented).toBe(true)
    await client.close()
    expect(listeners.size).toBe(0)
  })

  it('stays away without the option', async () => {
    const listeners: string[] = []
    scope.addEventListener = (type) => listeners.push(type)
    scope.removeEventListener = () => {}
    const client = createClient({ url: 'ws://relay.invalid', WebSocket: NeverOpenSocket })
    client.memory('unload').set('a', 1)
    expect(listeners).not.toContain('beforeunload')
    await client.close()
  })
})
