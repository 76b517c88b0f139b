/**
 * The offline form: edited offline it counts pending changes, keeps its value across a
 * reload without network (page from the service worker, value from IndexedDB), and syncs
 * when back online: the count returns to 0 and another browser sees the value.
 */
import { type Page, expect, test } from '@playwright/test'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

let demo: Demo

test.beforeAll(async () => {
  demo = await startDemo()
})

test.afterAll(async () => {
  await demo?.stop()
})

const pending = async (page: Page): Promise<number> =>
  Number(await page.getByTestId('pending-count').textContent())

test('edited offline, it keeps its value across an offline reload and syncs when back online', async ({
  browser,
}, testInfo) => {
  const alice = await openDemo(browser, demo)
  const bob = await openDemo(browser, demo)
  const name = (page: Page) => page.getByTestId('form-field-name')
  // Start from an empty field (the memory is shared by everyone on this demo server).
  await name(alice.page).fill('')
  await expect(name(bob.page)).toHaveValue('')
  await expect(alice.page.getByTestId('form-status')).toHaveText('saved')

  await alice.context.setOffline(true)
  await expect(alice.page.getByTestId('connection-status')).toHaveText('offline')
  await expect(alice.page.getByTestId('form-status')).toHaveText('offline')

  await name(alice.page).pressSequentially('Ada Lovelace')
  await expect(name(alice.page)).toHaveValue('Ada Lovelace')
  await expect.poll(() => pending(alice.page)).toBeGreaterThan(0)
  await expect(alice.page.getByTestId('form-status')).toContainText('changes pending')
  await expect(alice.page.getByTestId('form-status')).toContainText('offline')
  await snap(alice.page, testInfo, 'alice-offline-edited')

  // A reload without network: the page from the service worker, the value from IndexedDB.
  await alice.page.reload()
  await expect(name(alice.page)).toHaveValue('Ada Lovelace')
  await expect(alice.page.getByTestId('connection-status')).toHaveText('offline')
  await expect.poll(() => pending(alice.page)).toBeGreaterThan(0)
  await snap(alice.page, testInfo, 'alice-after-offline-reload')

  // Nothing reached the relay yet.
  await expect(name(bob.page)).toHaveValue('')

  await alice.context.setOffline(false)
  await expect(alice.page.getByTestId('connection-status')).toHaveText('online')
  await expect(alice.page.getByTestId('pending-count')).toHaveText('0')
  await expect(alice.page.getByTestId('form-status')).toHaveText('saved')
  await expect(name(bob.page)).toHaveValue('Ada Lovelace')
  await snap(bob.page, testInfo, 'bob-after-sync')

  // Edits keep flowing both ways afterwards.
  await name(bob.page).fill('Ada King')
  await expect(name(alice.page)).toHaveValue('Ada King')

  expect([...alice.errors, ...bob.errors]).toEqual([])
  await alice.context.close()
  await bob.context.close()
})
