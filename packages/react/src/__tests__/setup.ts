/**
 * Vitest's jsdom environment replaces the global `Uint8Array` and `ArrayBuffer` with jsdom's,
 * which come from another realm: Node's Buffers (from `ws`) and ArrayBuffers are then not
 * `instanceof` them, and the client drops every frame. A browser has one realm, so put back
 * Node's constructors, as Vitest's node environment does.
 */
if (typeof document !== 'undefined') {
  const NodeUint8Array = Object.getPrototypeOf(Buffer.prototype).constructor as typeof Uint8Array
  globalThis.Uint8Array = NodeUint8Array
  globalThis.ArrayBuffer = new NodeUint8Array(0).buffer.constructor as typeof ArrayBuffer
}
