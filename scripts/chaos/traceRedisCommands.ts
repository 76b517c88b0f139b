/**
 * Diagnostic preload for relays (`--trace-redis-commands`): every ioredis command records
 * where it was sent from, and an error it is rejected with carries that origin in its stack.
 * An unhandled rejection (ioredis' MaxRetriesPerRequestError has no caller frames of its
 * own) then names the code that sent the command. Costs a stack capture per command.
 */
import { Redis } from 'ioredis'

type Command = { name: string; reject: (error: unknown) => void }
const prototype = Redis.prototype as unknown as { sendCommand(command: Command, stream?: unknown): unknown }
const send = prototype.sendCommand
prototype.sendCommand = function (this: unknown, command: Command, stream?: unknown) {
  const origin = new Error('sent from').stack ?? ''
  const reject = command.reject
  command.reject = (error: unknown) => {
    if (!(error instanceof Error)) return reject(error)
    // One error object is shared by every command a flush rejects: give each its own.
    const traced = Object.create(error) as Error
    Object.defineProperty(traced, 'stack', { value: `${error.stack}\n--- ${command.name} ${origin}`, configurable: true })
    reject(traced)
  }
  return send.call(this, command, stream)
}
