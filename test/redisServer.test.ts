import { existsSync } from 'node:fs'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startRedis } from './redisServer.ts'

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function withClient<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    return await use(redis)
  } finally {
    redis.disconnect()
  }
}

describe('startRedis', () => {
  it('starts a server that answers, and stop leaves no process and no directory', async () => {
    const server = await startRedis({ args: ['--notify-keyspace-events', 'KEA'] })
    const pid = server.pid
    expect(pid).toBeTypeOf('number')
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
    expect(existsSync(server.dir)).toBe(true)
    await withClient(server.url, async (redis) => {
      expect(await redis.ping()).toBe('PONG')
      expect(await redis.config('GET', 'notify-keyspace-events')).toEqual([
        'notify-keyspace-events',
        'AKE',
      ])
    })

    await server.stop()
    expect(isRunning(pid ?? 0)).toBe(false)
    expect(server.pid).toBeUndefined()
    expect(existsSync(server.dir)).toBe(false)
  })

  it('restarts on the same port, losing data without persist', async () => {
    const server = await startRedis()
    try {
      await withClient(server.url, (redis) => redis.set('k', 'v'))
      const firstPid = server.pid
      server.kill()
      await server.restart()
      expect(server.pid).not.toBe(firstPid)
      expect(isRunning(firstPid ?? 0)).toBe(false)
      expect(await withClient(server.url, (redis) => redis.get('k'))).toBeNull()
    } finally {
      await server.stop()
    }
  })

  it('keeps data across a crash with persist', async () => {
    const server = await startRedis({ persist: true })
    try {
      await withClient(server.url, (redis) => redis.set('k', 'v'))
      server.kill()
      await server.restart()
      expect(await withClient(server.url, (redis) => redis.get('k'))).toBe('v')
    } finally {
      await server.stop()
    }
  })

  it('says how to install redis-server when it is missing', async () => {
    const path = process.env.PATH
    process.env.PATH = ''
    try {
      await expect(startRedis()).rejects.toThrow(
        'redis-server not found: run `npm test` (it installs it) or `apt-get install redis-server`',
      )
    } finally {
      process.env.PATH = path
    }
  })
})
