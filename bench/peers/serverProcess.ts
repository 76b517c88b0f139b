/**
 * One server of the `peers` suite, in a process of its own (forked by servers.ts, with
 * --expose-gc so that heap figures are taken after a full collection):
 *   remem       the relay on Redis, as the CLI starts it (createRelay + pino at 'error' +
 *               metrics), with the per-IP connection cap and the per-connection frame
 *               budget lifted (the CLI has no flags for them; they would cap the bench)
 *   hocuspocus  @hocuspocus/server 4.7 + @hocuspocus/extension-redis on the same Redis
 *   ywebsocket  @y/websocket-server 0.1.1 (setupWSConnection, documents in memory)
 *   bare        a bare `ws` relay: forwards each frame to the room's other sockets and
 *               answers the sender with a 1-byte ack (the ceiling: no document, no state)
 * It answers `{ type: 'memory' }` with its memory after a full GC, profiles its CPU between
 * `{ type: 'profile' }` start and stop (so that start-up is left out), and exits on `{ type: 'exit' }`.
 */
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { Session } from 'node:inspector/promises'
import v8 from 'node:v8'
import type { WebSocket} from 'ws';
import { WebSocketServer } from 'ws'
import type { ServerKind, ServerMessage, ServerRequest } from './protocol.ts'

const kind = process.argv[2] as ServerKind
const redisUrl = process.argv[3] ?? ''

function send(message: ServerMessage): void {
  process.send?.(message)
}

/** Starts the server; resolves with its port and a close function. */
async function start(): Promise<{ port: number; close: () => Promise<void> }> {
  switch (kind) {
    case 'remem': {
      const { createRelay, createPinoLogger } = await import('@remem/server')
      const { collectDefaultMetrics } = await import('prom-client')
      const relay = await createRelay({
        port: 0,
        host: '127.0.0.1',
        redis: redisUrl,
        logger: createPinoLogger({ level: 'error' }),
        maxConnectionsPerIp: 0,
        maxMessagesPerSecond: 1_000_000,
        maxBytesPerSecond: 1024 ** 3,
      })
      if (relay.metrics) collectDefaultMetrics({ register: relay.metrics.registry })
      return { port: relay.port, close: () => relay.close() }
    }
    case 'hocuspocus': {
      const { Server } = await import('@hocuspocus/server')
      const { Redis: RedisExtension } = await import('@hocuspocus/extension-redis')
      const url = new URL(redisUrl)
      const server = new Server({
        port: 0,
        address: '127.0.0.1',
        quiet: true,
        stopOnSignals: false,
        extensions: [new RedisExtension({ host: url.hostname, port: Number(url.port) })],
      })
      await server.listen()
      return { port: server.address.port, close: () => server.destroy() }
    }
    case 'ywebsocket': {
      const { setupWSConnection } = await import('@y/websocket-server/utils')
      const wss = new WebSocketServer({ noServer: true })
      const server = http.createServer((_request, response) => response.end('okay'))
      wss.on('connection', setupWSConnection)
      server.on('upgrade', (request, socket, head) =>
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
      )
      return listen(server, wss)
    }
    case 'bare': {
      const rooms = new Map<string, Set<WebSocket>>()
      const ACK = new Uint8Array([0])
      const wss = new WebSocketServer({ noServer: true })
      const server = http.createServer((_request, response) => response.end('okay'))
      server.on('upgrade', (request, socket, head) =>
        wss.handleUpgrade(request, socket, head, (ws) => {
          const name = (request.url ?? '/').slice(1)
          let room = rooms.get(name)
          if (!room) rooms.set(name, (room = new Set()))
          room.add(ws)
          ws.on('message', (data: Buffer) => {
            for (const other of room) if (other !== ws) other.send(data)
            ws.send(ACK)
          })
          ws.on('close', () => {
            room.delete(ws)
            if (room.size === 0) rooms.delete(name)
          })
        }),
      )
      return listen(server, wss)
    }
  }
}

function listen(server: http.Server, wss: WebSocketServer): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        close: async () => {
          for (const client of wss.clients) client.terminate()
          await new Promise<void>((done) => server.close(() => done()))
        },
      })
    })
  })
}

const running = await start().catch((error: unknown) => {
  send({ type: 'failed', message: String(error) })
  process.exit(1)
})
let profiler: Session | null = null
async function profile(request: Extract<ServerRequest, { type: 'profile' }>): Promise<void> {
  if (request.action === 'start') {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.start')
  } else if (profiler) {
    const { profile } = await profiler.post('Profiler.stop')
    writeFileSync(request.file, JSON.stringify(profile))
    profiler.disconnect()
    profiler = null
  }
  send({ type: 'profiled' })
}

process.on('message', (request: ServerRequest) => {
  if (request.type === 'profile') {
    void profile(request)
  } else if (request.type === 'memory') {
    globalThis.gc?.()
    globalThis.gc?.()
    const usage = process.memoryUsage()
    const youngGeneration = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0
    send({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, youngGeneration })
  } else if (request.type === 'exit') {
    void running.close().finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 5_000).unref()
  }
})
// The suite's process is gone (killed, or crashed): nothing will stop this one otherwise.
process.once('disconnect', () => process.exit(0))
send({ type: 'ready', port: running.port })
