/**
 * The relay's plain HTTP answers: `/healthz` (200 when the store answers, else 503, with a
 * JSON body), `/metrics` (Prometheus text), and 426 for anything else (a WebSocket is
 * expected).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RelayMetrics } from './metrics.ts'
import type { StoreHealth } from './StoreHealth.ts'

export interface HttpRoutesContext {
  health: StoreHealth
  metrics: RelayMetrics | null
  /** Loaded memories and open connections, for `/healthz`. */
  counts(): { memories: number; connections: number }
}

export function httpRoutes(
  context: HttpRoutesContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path === '/healthz') {
      void context.health.check().then((report) => {
        response.writeHead(report.ok ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        response.end(JSON.stringify({ ...report, ...context.counts() }))
      })
      return
    }
    if (path === '/metrics' && context.metrics) {
      const metrics = context.metrics
      metrics.text().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType })
          response.end(text)
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' })
          response.end(`collecting metrics failed: ${String(error)}\n`)
        },
      )
      return
    }
    response.writeHead(426, { 'content-type': 'text/plain' })
    response.end('remem relay: connect with a WebSocket client (@remem/client)\n')
  }
}
