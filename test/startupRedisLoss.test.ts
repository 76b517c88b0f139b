/**
 * Issue 9, finding 6b: a relay that loses Redis during startup (after Redis first answered)
 * exits 1 with the one line the README promises, naming the password-masked URL, not with
 * ioredis' "Reached the max retries per request limit".
 *
 * A TCP proxy in front of a real redis-server forwards the relay's first commands, then, at
 * the first CONFIG (the keyspace setup, after PING and the pub/sub connection), drops every
 * connection and stops listening: Redis is gone for good in the middle of startup.
 */
import { type Server, type Socket, connect, createServer } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCliRelay } from './cliRelay.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis({ args: ['--requirepass', 's3cret-pass'] })
})
afterAll(async () => {
  await redis.stop()
})

/** A proxy to `port` that vanishes (drops everything, stops listening) at the first `command`. */
async function vanishingProxy(port: number, command: string): Promise<{ port: number; vanished: () => boolean; close: () => void }> {
  const sockets = new Set<Socket>()
  let vanished = false
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('data', (chunk: Buffer) => {
      if (!vanished && chunk.toString('latin1').toUpperCase().includes(command)) {
        vanished = true
        server.close()
        for (const socket of sockets) socket.destroy()
        return
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined)
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    vanished: () => vanished,
    close: () => {
      server.close()
      for (const socket of sockets) socket.destroy()
    },
  }
}

// CONFIG: the keyspace setup; PSUBSCRIBE: following keyspace events.
it.each(['CONFIG', 'PSUBSCRIBE'])('remem-relay losing Redis at its first %s exits 1 with one line naming the masked URL', async (command) => {
  const proxy = await vanishingProxy(redis.port, command)
  try {
    const url = `redis://default:s3cret-pass@127.0.0.1:${proxy.port}`
    const { code, stdout, stderr } = await runCliRelay(['--port', '0', '--host', '127.0.0.1'], { REDIS_URL: url })
    expect(proxy.vanished()).toBe(true)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    const ours = stderr.split('\n').filter((line) => line.startsWith('remem-relay: '))
    expect(ours).toEqual([
      expect.stringMatching(
        new RegExp(`^remem-relay: Lost Redis at redis://default:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} while starting \\(.+\\)\\. Check`),
      ),
    ])
    expect(stderr).not.toContain('max retries per request')
    expect(stderr).not.toContain('s3cret-pass')
  } finally {
    proxy.close()
  }
})
