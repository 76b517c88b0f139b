import { resolve } from 'node:path'
import { defineConfig } from '@playwright/test'

/** Set by `npm test` (scripts/test.mjs): where the JSON report goes. */
const reportDir = process.env.REMEM_REPORT_DIR

export default defineConfig({
  testDir: './tests',
  outputDir: './artifacts',
  // Builds the demo once (vite build, with its service worker) for every test file.
  globalSetup: './globalSetup.ts',
  // Each test file starts its own demo server: relay, producer and static files
  // (helpers/startDemo.ts); one worker keeps ports and CPU predictable.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // A test that passes on a retry is a bug that was not found: never retry.
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: reportDir
    ? [['list'], ['json', { outputFile: resolve(reportDir, 'playwright.json') }]]
    : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      // The system Chromium (Debian package); never `playwright install`.
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
})
