import { configure } from '@testing-library/react'

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

/**
 * Every hook test here talks to a real relay over a real socket: a round trip can take longer
 * than Testing Library's 1 s default on a loaded machine (seen at load average 20+), and a test
 * that fails by timing says nothing about the hook. The tests assert what happens, not when.
 */
configure({ asyncUtilTimeout: 5000 })
