import { type ClientOptions, RememClient } from './RememClient.ts'

/**
 * Connects to a remem relay. Memories opened from the client share one WebSocket.
 * @example
 * const client = createClient({ url: 'ws://127.0.0.1:8787' })
 * const mem = client.memory('dashboard')
 * mem.set('cpu', 0.5)
 * await mem.whenSynced()
 */
export function createClient(options: ClientOptions): RememClient {
  return new RememClient(options)
}
