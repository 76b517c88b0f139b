/**
 * `npm start` as a new user runs it: it prints the demo's URL, and that URL works in
 * Chromium, on the embedded store and, with REDIS_URL set, on Redis (where the producer's
 * metrics are plain keys that other Redis clients read and write).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Page, expect, test } from '@playwright/test'
import { Redis } from 'ioredis'
import { freePort, startRedis } from '../../test/redisServer.ts'
import { openDemo, snap } from '../helpers/demoPage.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Started {
  demoUrl: string
  relayUrl: string
  store: string
  output(): string
  stop(): Promise<void>
}

/** Runs `npm start` in its own process group and waits for the line with the URL. */
async function npmStart(env: NodeJS.ProcessEnv): Promise<Started> {
  const [relayPort, demoPort] = [await freePort(), await freePort()]
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(relayPort),
    DEMO_PORT: String(demoPort),
  }
  for (const name of ['REDIS_URL', 'REDIS_HOST', 'REMEM_DEMO_PRODUCER', 'REMEM_DEMO_DIST'])
    delete childEnv[name]
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd: root,
    env: { ...childEnv, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM')
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }, 10_000)
    await exited
    clearTimeout(timer)
  }
  try {
    const deadline = Date.now() + 60_000
    for (;;) {
      const match = /remem demo: (http:\/\/\S+)\s+\(relay (ws:\/\/\S+), store: (\w+)\)/.exec(output)
      if (match) {
        return {
          demoUrl: match[1]!,
          relayUrl: match[2]!,
          store: match[3]!,
          output: () => output,
          stop,
        }
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`npm start printed no URL:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The dashboard's CPU changes by itself (the producer writes every 500 ms). */
async function expectCpuUpdating(page: Page): Promise<void> {
  const cpu = page.getByTestId('metric-cpu')
  await expect(cpu).toHaveText(/^\d+(\.\d)?$/)
  const first = await cpu.textContent()
  await expect(cpu).not.toHaveText(first!)
}

test('npm start prints the URL, and the demo works there on the embedded store', async ({
  browser,
}, testInfo) => {
  const started = await npmStart({})
  try {
    expect(started.store).toBe('embedded')
    const { context, page, errors } = await openDemo(browser, started.demoUrl)
    await expect(page.getByTestId('connection-status')).toContainText('online')
    await expectCpuUpdating(page)
    await snap(page, testInfo, 'npm-start-embedded')
    expect(errors).toEqual([])
    await context.close()
  } finally {
    await started.stop()
  }
})

test('with REDIS_URL, npm start keeps memories in Redis and the dashboard reads its keys', async ({
  browser,
}, testInfo) => {
  const redisServer = await startRedis()
  const redis = new Redis(redisServer.url)
  try {
    const started = await npmStart({ REDIS_URL: redisServer.url })
    try {
      expect(started.store).toBe('redis')
      const { context, page, errors } = await openDemo(browser, started.demoUrl)
      await expectCpuUpdating(page)
      // The producer's writes are plain keys in the projection layout.
      const stored = JSON.parse((await redis.get('memory:dashboard:cpu'))!) as Record<
        string,
        unknown
      >
      expect(Object.keys(stored).sort()).toEqual(['last_modified', 'value'])
      // A value another Redis client writes shows up, and the producer leaves it alone a while.
      await redis.set('memory:dashboard:cpu', '{"value": 123.4, "last_modified": 1}')
      await expect(page.getByTestId('metric-cpu')).toHaveText('123.4')
      await page.waitForTimeout(1500)
      await expect(page.getByTestId('metric-cpu')).toHaveText('123.4')
      await snap(page, testInfo, 'npm-start-redis')
      // The todo list the demo seeded lives in Redis too.
      expect(await redis.get('memory:todos:items')).toMatch(/^\{"value":\[\]/)
      expect(errors).toEqual([])
      await context.close()
    } finally {
      await started.stop()
    }
  } finally {
    redis.disconnect()
    await redisServer.stop()
  }
})
