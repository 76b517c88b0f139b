/**
 * The live dashboard on a real Redis: a value another Redis client SETs in the projection
 * layout shows up in every browser, and a value set in a browser lands in Redis.
 */
import { expect, test } from '@playwright/test'
import { Redis } from 'ioredis'
import { type RedisServer, startRedis } from '../../test/redisServer.ts'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

let redisServer: RedisServer
let demo: Demo
let redis: Redis

test.beforeAll(async () => {
  redisServer = await startRedis()
  // No producer: this test decides what `cpu` holds.
  demo = await startDemo({ redis: redisServer.url, producer: false })
  redis = new Redis(redisServer.url)
})

test.afterAll(async () => {
  redis?.disconnect()
  await demo?.stop()
  await redisServer?.stop()
})

test('an external Redis SET in the projection layout appears on every dashboard', async ({
  browser,
}, testInfo) => {
  const first = await openDemo(browser, demo)
  const second = await openDemo(browser, demo)
  const cpu = (page: typeof first.page) => page.getByTestId('metric-cpu')

  const lastModified = (BigInt(Date.now()) * 1_000_000n).toString()
  await redis.set('memory:dashboard:cpu', `{"value": 42.5, "last_modified": ${lastModified}}`)
  await expect(cpu(first.page)).toHaveText('42.5')
  await expect(cpu(second.page)).toHaveText('42.5')
  await snap(first.page, testInfo, 'first-after-redis-set')

  // Bare JSON, as redis-cli users write it, works too.
  await redis.set('memory:dashboard:cpu', '97')
  await expect(cpu(first.page)).toHaveText('97')
  await expect(cpu(second.page)).toHaveText('97')

  // And the other way: a value set in a browser is projected to the plain key.
  await first.page.getByTestId('randomize-cpu').click()
  await expect(cpu(first.page)).not.toHaveText('97')
  const shown = await cpu(first.page).textContent()
  await expect(cpu(second.page)).toHaveText(shown!)
  await expect
    .poll(async () => JSON.parse((await redis.get('memory:dashboard:cpu')) ?? 'null')?.value)
    .toBe(Number(shown))
  await snap(second.page, testInfo, 'second-after-browser-set')

  expect([...first.errors, ...second.errors]).toEqual([])
  await first.context.close()
  await second.context.close()
})
