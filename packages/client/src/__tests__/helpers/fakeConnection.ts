import type { Connection } from '../../connection/Connection.ts'
import type { Message } from '../../protocol/messages.ts'

/** A connection that is always online and records in `sent` what the memory sends. */
export function fakeConnection(sent: Message[]): Connection {
  return {
    state: 'online',
    register: (_name: string, channel: { onOpen(): void }) => channel.onOpen(),
    unregister: () => undefined,
    send: (message: Message) => (sent.push(message), true),
    subscribe: () => () => undefined,
  } as unknown as Connection
}
