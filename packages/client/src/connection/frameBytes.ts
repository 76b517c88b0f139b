/**
 * The bytes of a binary WebSocket frame, whichever way the socket delivers them: a Uint8Array
 * (a Node Buffer from `ws`) as it is, an ArrayBuffer or another view wrapped without a copy.
 * Null for anything else (a text frame).
 */
export function frameBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return null
}
