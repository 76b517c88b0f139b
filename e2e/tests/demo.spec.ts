import { expect, test } from '@playwright/test'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

let demo: Demo

test.beforeAll(async () => {
  demo = await startDemo()
})

test.afterAll(async () => {
  await demo?.stop()
})

test('the demo connects to the relay and shows it is online', async ({ page }) => {
  await page.goto(demo.url)
  await expect(page.getByTestId('connection-status')).toContainText('online')
  await expect(page.getByTestId('pending-count')).toHaveText('0')
})
