/**
 * One socket write per event-loop turn for an ioredis connection (issue 12, "Relay hot path").
 *
 * ioredis writes every command to its socket as it is issued: with many memories, each
 * memory's append script and projection pipeline is a syscall of its own, issued from the
 * I/O callback of the client socket it came from. Here the socket is corked at the first
 * command of a turn and uncorked at its end (`atTurnEnd`, once the event loop has handled
 * every I/O callback of the turn): the commands of all memories leave in one `writev`.
 *
 * Nothing is reordered: the bytes leave in the order ioredis wrote them, and ioredis matches
 * replies to its command queue in that same order (MULTI/EXEC, SELECT and the handshake
 * included). A command is only delayed until the end of the turn; the poll phase does not
 * wait for I/O while an immediate is pending. A socket that closes while corked loses its
 * buffered bytes as it would lose bytes written but unanswered: ioredis rejects (or resends)
 * every command of its queue, and the store acknowledges nothing it did not get a reply for.
 */
import type { Redis } from 'ioredis'
import { atTurnEnd } from '../turnEnd.ts'

interface Corkable {
  writable: boolean
  cork(): void
  uncork(): void
}

/** The connections already wrapped, so that a connection is corked by one wrapper only. */
const wrapped = new WeakSet<object>()

/**
 * Makes `connection` send the commands issued in one event-loop turn in one socket write;
 * returns it. Idempotent.
 */
export function writeOncePerTurn<C extends Redis>(connection: C): C {
  if (wrapped.has(connection)) return connection
  wrapped.add(connection)
  const target = connection as unknown as { sendCommand: (...args: unknown[]) => unknown; stream?: Corkable }
  const sendCommand = target.sendCommand
  let corked: Corkable | null = null
  const uncork = (): void => {
    const socket = corked
    corked = null
    socket?.uncork()
  }
  target.sendCommand = function (this: typeof target, ...args: unknown[]): unknown {
    const socket = this.stream
    // A new socket after a reconnect is corked on its first command like the first one.
    if (corked !== socket && socket?.writable) {
      if (corked) uncork()
      else atTurnEnd(uncork)
      socket.cork()
      corked = socket
    }
    return sendCommand.apply(this, args)
  }
  return connection
}
