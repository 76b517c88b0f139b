import type { WebSocketLike } from '../../connection/Connection.ts'

/** A WebSocket that never opens: a client given it stays offline and keeps every change pending. */
export class NeverOpenSocket implements WebSocketLike {
  binaryType = 'arraybuffer'
  readyState = 0
  onopen = null
  onclose = null
  onerror = null
  onmessage = null
  send(): void {}
  close(): void {}
}
