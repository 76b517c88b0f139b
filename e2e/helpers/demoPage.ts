/** Opening the demo in its own browser context, and screenshots kept as artifacts. */
import {
  type Browser,
  type BrowserContext,
  type Page,
  type TestInfo,
  expect,
} from '@playwright/test'
import type { Demo } from './startDemo.ts'

export interface DemoPage {
  context: BrowserContext
  page: Page
  /** Uncaught errors of the page so far. */
  errors: Error[]
}

/**
 * A new browser context (its own storage: another person) with the demo open, once it is
 * online and its service worker is active (so a later offline reload works).
 */
export async function openDemo(browser: Browser, demo: Demo | string): Promise<DemoPage> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors: Error[] = []
  page.on('pageerror', (error) => errors.push(error))
  await page.goto(typeof demo === 'string' ? demo : demo.url)
  await expect(page.getByTestId('connection-status')).toHaveText('online')
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
  return { context, page, errors }
}

/** Saves a screenshot of `page` as a test artifact: e2e/artifacts/<test>/<name>.png. */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true })
}
