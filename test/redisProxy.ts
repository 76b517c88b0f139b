/** A TCP proxy between ioredis and a test's redis-server, for cutting connections on cue. */
import { type Server, type Socket, createConnection, createServer } from 'node:net'

/**
 * A TCP proxy to Redis that can cut every connection and swallow the commands whose text
 * contains `command` (e.g. 'psubscribe'), so that they are never answered.
 */
export async function redisProxy(port: number, command: string) {
  const sockets = new Set<Socket>()
  let swallow = false
  let swallowed = 0
  const listener: Server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' })
    sockets.add(client).add(upstream)
    client.on('data', (data: Buffer) => {
      if (swallow && data.toString('latin1').toLowerCase().includes(command)) swallowed++
      else upstream.write(data)
    })
    upstream.on('data', (data: Buffer) => client.write(data))
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const address = listener.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    url: `redis://127.0.0.1:${address.port}`,
    /** From now on those commands never reach Redis (so it is never answered). */
    holdSubscriptions: () => {
      swallow = true
    },
    swallowed: () => swallowed,
    cutAll: () => {
      for (const socket of sockets) socket.destroy()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => listener.close(resolve))
    },
  }
}
