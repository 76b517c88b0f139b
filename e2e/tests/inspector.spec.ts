/**
 * The relay inspector (`--inspect`) of the demo's relay on a real redis-server, in Chromium:
 * closed (401) without a token, the page asks for one; with a read token it lists the
 * memories the demo uses, read-only; with a write token its write form changes a memory
 * that the demo page then shows. Screenshots are kept as artifacts.
 */
import { expect, test } from '@playwright/test'
import { Redis } from 'ioredis'
import { SignJWT } from 'jose'
import { type RedisServer, startRedis } from '../../test/redisServer.ts'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

const SECRET = 'inspector-e2e-secret-0123456789-abcdefg'
let redisServer: RedisServer
let demo: Demo
let inspectUrl: string

function token(access: 'read' | 'write', memories = ['*']): Promise<string> {
  return new SignJWT({ mem: memories, acc: access })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))
}

test.beforeAll(async () => {
  redisServer = await startRedis()
  demo = await startDemo({ redis: redisServer.url, relayArgs: ['--secret', SECRET, '--inspect'] })
  inspectUrl = `${demo.relayUrl.replace(/^ws:/, 'http:')}/inspect`
})

test.afterAll(async () => {
  await demo?.stop()
  await redisServer?.stop()
})

test('the inspector is closed without a token, read-only with a read token, and writes with a write token', async ({
  browser,
}, testInfo) => {
  const write = await token('write')
  const app = await openDemo(browser, `${demo.url}/?token=${write}`)
  await app.page.getByTestId('todo-input').fill('inspect me')
  await app.page.getByTestId('todo-input').press('Enter')
  await expect(app.page.getByTestId('pending-count')).toHaveText('0')

  const denied = await app.page.request.get(`${inspectUrl}/data`)
  expect(denied.status()).toBe(401)
  const forged = await app.page.request.get(`${inspectUrl}/data`, {
    headers: {
      authorization: `Bearer ${await new SignJWT({ mem: ['*'], acc: 'write' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('x'.repeat(40)))}`,
    },
  })
  expect(forged.status()).toBe(401)

  const reader = await browser.newPage()
  await reader.goto(inspectUrl)
  await expect(reader.getByRole('heading', { name: 'remem relay inspector' })).toBeVisible()
  await reader.getByLabel('token').fill(await token('read'))
  await reader.getByRole('button', { name: 'inspect' }).click()
  const todos = reader.getByRole('region', { name: 'memory todos' })
  await expect(todos).toContainText('loaded here')
  await expect(todos).toContainText('read-only')
  await expect(reader.getByRole('region', { name: 'memory dashboard' })).toBeVisible()
  await expect(reader.getByRole('region', { name: 'memory form' })).toBeVisible()
  // The log length shown is Redis's own.
  const direct = new Redis(redisServer.url)
  try {
    const logLength = await direct.xlen('remem:{memory:todos}:log')
    const table = todos.locator('table').first()
    const column = (await table.locator('thead th').allTextContents()).indexOf('log entries')
    expect(column).toBeGreaterThan(0)
    await expect(table.locator('tbody td').nth(column)).toHaveText(String(logLength))
  } finally {
    direct.disconnect()
  }
  await expect(reader.locator('#tail')).toContainText('todos')
  await snap(reader, testInfo, 'inspector')
  await reader.close()

  const writer = await browser.newPage()
  await writer.goto(`${inspectUrl}#token=${write}`)
  const form = writer.getByRole('region', { name: 'memory form' })
  await form.getByLabel('key of form').fill('name')
  await form.getByLabel('new value').fill('"Ada, from the inspector"')
  await form.getByRole('button', { name: 'set' }).click()
  await expect(writer.getByRole('status')).toHaveText('written: form.name')
  await expect(app.page.getByTestId('form-field-name')).toHaveValue('Ada, from the inspector')
  await writer.close()
  expect(app.errors).toEqual([])
  await app.context.close()
})
