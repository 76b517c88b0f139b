import { defineConfig } from 'vitest/config'

/**
 * The packaging tests: they need `npm run build` first, so `npm test` runs them after the
 * build (scripts/test.mjs), and the root vitest.config.ts leaves them out.
 * `npm run test:packaging` runs them alone.
 */
export default defineConfig({
  test: {
    name: 'packaging',
    root: new URL('../../', import.meta.url).pathname,
    include: ['test/packaging/**/*.test.ts'],
    environment: 'node',
    // The tarball test installs packages and runs a browser; the checks pack too. One file at a time.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 360_000,
    reporters: process.env.REMEM_REPORT ? ['default', ['json', { outputFile: process.env.REMEM_REPORT }]] : ['default'],
  },
})
