/**
 * Presence in two browsers: each shows the other next to the todo list, and a closed
 * browser disappears from the other within seconds.
 */
import { expect, test } from '@playwright/test'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

let demo: Demo

test.beforeAll(async () => {
  demo = await startDemo({ producer: false })
})

test.afterAll(async () => {
  await demo?.stop()
})

test('presence shows the other browser and drops it when it closes', async ({
  browser,
}, testInfo) => {
  const alice = await openDemo(browser, demo)
  await expect(alice.page.getByTestId('presence-self')).toHaveCount(1)
  await expect(alice.page.getByTestId('presence-other')).toHaveCount(0)

  const bob = await openDemo(browser, demo)
  await expect(alice.page.getByTestId('presence-other')).toHaveCount(1)
  await expect(bob.page.getByTestId('presence-other')).toHaveCount(1)
  // Each sees the other under the name the other gave itself.
  const bobName = await bob.page.getByTestId('presence-self').getAttribute('title')
  const aliceName = await alice.page.getByTestId('presence-self').getAttribute('title')
  expect(bobName).toMatch(/ \(you\)$/)
  await expect(alice.page.getByTestId('presence-other')).toHaveAttribute(
    'title',
    bobName!.replace(/ \(you\)$/, ''),
  )
  await expect(bob.page.getByTestId('presence-other')).toHaveAttribute(
    'title',
    aliceName!.replace(/ \(you\)$/, ''),
  )
  await expect(alice.page.getByTestId('presence-count')).toHaveText('1 other here')
  await snap(alice.page, testInfo, 'alice-sees-bob')

  const closedAt = Date.now()
  await bob.context.close()
  await expect(alice.page.getByTestId('presence-other')).toHaveCount(0, { timeout: 5000 })
  expect(Date.now() - closedAt).toBeLessThan(5000)
  await expect(alice.page.getByTestId('presence-count')).toHaveText('only you here')
  await snap(alice.page, testInfo, 'alice-after-bob-left')

  expect(alice.errors).toEqual([])
  await alice.context.close()
})
