/**
 * Offline in a real Chromium: tabs of one context share edits while offline, a reload
 * without network shows them (the page comes from its service worker, the data from
 * IndexedDB), and back online every edit reaches the relay and other browsers. A tab
 * closed abruptly right after an edit does not lose it.
 */
import { type BrowserContext, type Page, expect, test } from '@playwright/test'
import { type OfflineFixture, startOfflineFixture } from '../helpers/offlineFixture.ts'

let fixture: OfflineFixture

test.beforeAll(async () => {
  fixture = await startOfflineFixture()
})

test.afterAll(async () => {
  await fixture?.stop()
})

let names = 0
const uniqueName = (): string => `e2e-offline-${Date.now()}-${++names}`

/** Opens the fixture page and waits until it is online and its service worker controls caching. */
async function openOnline(context: BrowserContext, memory: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(fixture.pageUrl(memory))
  await expect(page.getByTestId('connection')).toHaveText('online')
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
  return page
}

const edit = (page: Page, key: string, value: unknown): Promise<void> =>
  page.evaluate(
    ([k, v]) => {
      ;(
        window as unknown as { remem: { mem: { set(key: string, value: unknown): void } } }
      ).remem.mem.set(k, v)
    },
    [key, value] as const,
  )

const state = (page: Page) => page.getByTestId('state')

test('two tabs edit offline, see each other, survive an offline reload and closing, and sync when back online', async ({
  browser,
}) => {
  const memory = uniqueName()
  const context = await browser.newContext()
  const tab1 = await openOnline(context, memory)
  const tab2 = await openOnline(context, memory)
  await expect(tab1.getByTestId('storage')).toHaveText('indexeddb')

  await context.setOffline(true)
  await expect(tab1.getByTestId('connection')).not.toHaveText('online')
  await expect(tab2.getByTestId('connection')).not.toHaveText('online')

  await edit(tab1, 'fromTab1', 'one')
  await edit(tab2, 'fromTab2', 'two')
  const both = JSON.stringify({ fromTab1: 'one', fromTab2: 'two' })
  // Each tab sees the other's edit at once, with no relay in between.
  await expect(state(tab1)).toHaveText(both)
  await expect(state(tab2)).toHaveText(both)
  await expect(tab1.getByTestId('pending')).toHaveText('1')
  await expect(tab2.getByTestId('pending')).toHaveText('1')

  // Reload while offline: the page comes from the service worker, the edits from IndexedDB.
  await tab1.reload()
  await expect(state(tab1)).toHaveText(both)
  await expect(tab1.getByTestId('connection')).not.toHaveText('online')
  await edit(tab1, 'afterReload', 'three')
  const all = JSON.stringify({ afterReload: 'three', fromTab1: 'one', fromTab2: 'two' })
  await expect(state(tab2)).toHaveText(all)

  // Every tab closed, one opened later, still offline: the edits of all of them are there,
  // each still pending (three queued changes, none acknowledged).
  await tab1.close()
  await tab2.close()
  const tab3 = await context.newPage()
  await tab3.goto(fixture.pageUrl(memory))
  await expect(state(tab3)).toHaveText(all)
  await expect(tab3.getByTestId('pending')).toHaveText('3')

  await context.setOffline(false)
  await expect(tab3.getByTestId('connection')).toHaveText('online')
  await expect(tab3.getByTestId('pending')).toHaveText('0')

  // Another browser (its own storage) gets every edit from the relay.
  const elsewhere = await browser.newContext()
  const other = await openOnline(elsewhere, memory)
  await expect(state(other)).toHaveText(all)
  await elsewhere.close()
  await context.close()
})

test('a tab closed abruptly right after an edit keeps the edit', async ({ browser }) => {
  const memory = uniqueName()
  const context = await browser.newContext()
  const page = await openOnline(context, memory)
  // Offline, so that storage is the only place the edit can be.
  await context.setOffline(true)
  await expect(page.getByTestId('connection')).not.toHaveText('online')
  await edit(page, 'lastWords', 'kept')
  await page.close({ runBeforeUnload: false })

  const reopened = await context.newPage()
  await reopened.goto(fixture.pageUrl(memory))
  await expect(state(reopened)).toHaveText(JSON.stringify({ lastWords: 'kept' }))
  await expect(reopened.getByTestId('pending')).toHaveText('1')

  await context.setOffline(false)
  await expect(reopened.getByTestId('pending')).toHaveText('0')
  const elsewhere = await browser.newContext()
  const other = await openOnline(elsewhere, memory)
  await expect(state(other)).toHaveText(JSON.stringify({ lastWords: 'kept' }))
  await elsewhere.close()
  await context.close()
})
