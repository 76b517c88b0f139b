/**
 * Small byte arrays carved out of shared buffers, for bytes that stay in this process.
 *
 * V8 keeps the bytes of a `Uint8Array` longer than 64 bytes outside its heap, and allocating
 * them costs about 1 µs (against 0.1 µs for a view of a shared buffer): a change's storage
 * envelope, made on every local write, is such an array. A view keeps its whole buffer
 * alive, and structured clone (IndexedDB, BroadcastChannel) copies the whole buffer: bytes
 * that leave the process go through `ownBuffer` first.
 */

/** The size of each shared buffer. */
const POOL_BYTES = 16 * 1024
/** Larger arrays get a buffer of their own. */
const MAX_POOLED = 1024

let pool = new Uint8Array(0)
let used = 0

/** A zero-filled array of `length` bytes, usually a view of a shared buffer. */
export function allocatePooled(length: number): Uint8Array {
  if (length > MAX_POOLED) return new Uint8Array(length)
  if (used + length > pool.length) {
    pool = new Uint8Array(POOL_BYTES)
    used = 0
  }
  const bytes = pool.subarray(used, used + length)
  // 8-byte aligned, as V8 aligns its own allocations.
  used += (length + 7) & ~7
  return bytes
}

/** `bytes` with a buffer of its own (a copy when it is a view of a larger one). */
export function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}
