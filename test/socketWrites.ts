/** Counting the writes a socket hands to the kernel, for tests of write batching. */
import type { Socket } from 'node:net'

type Write = (...args: unknown[]) => unknown

/** Counts from now on the writes `socket` makes (one per `_write` or `_writev`: one syscall each). */
export function countSocketWrites(socket: Socket): () => number {
  const target = socket as Socket & { _write: Write; _writev: Write }
  let writes = 0
  const { _write, _writev } = target
  target._write = function (...args: unknown[]) {
    writes++
    return _write.apply(this, args)
  }
  target._writev = function (...args: unknown[]) {
    writes++
    return _writev.apply(this, args)
  }
  return () => writes
}
