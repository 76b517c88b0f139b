import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = { conditions: ['@remem/source'] }

/** React 18 for the `react18` project, installed apart from the root's React 19 (see its package.json). */
const react18 = (name: string): string => fileURLToPath(new URL(`./test/react18/node_modules/${name}`, import.meta.url))

/** @remem/react's tests, once per React version. */
const reactProject = (name: string, major: string, alias: Record<string, string> = {}) => ({
  extends: true as const,
  resolve: { alias },
  test: {
    name,
    include: ['packages/react/src/**/__tests__/**/*.test.{ts,tsx}'],
    // Testing Library needs a DOM; the server-rendering tests opt out per file.
    environment: 'jsdom',
    setupFiles: ['packages/react/src/__tests__/setup.ts'],
    testTimeout: 20_000,
    env: { REMEM_EXPECT_REACT: major },
  },
})

export default defineConfig({
  resolve: source,
  ssr: { resolve: { conditions: ['@remem/source'], externalConditions: ['@remem/source'] } },
  test: {
    reporters: process.env.REMEM_REPORT ? ['default', ['json', { outputFile: process.env.REMEM_REPORT }]] : ['default'],
    projects: [
      {
        extends: true,
        // Seeded random runs take seconds on a loaded machine: vitest's 5 s default is too tight.
        test: { name: 'client', include: ['packages/client/src/**/__tests__/**/*.test.ts'], environment: 'node', testTimeout: 20_000 },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['packages/server/src/**/__tests__/**/*.test.ts', 'test/**/*.test.ts'],
          // Built packages, tarballs and bundle sizes: `npm test` runs them after `npm run build`
          // with test/packaging/vitest.config.ts.
          exclude: ['test/packaging/**', '**/node_modules/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'devtools',
          include: ['packages/devtools/src/**/__tests__/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          // Node's Uint8Array and ArrayBuffer back in place of jsdom's (see the file).
          setupFiles: ['packages/react/src/__tests__/setup.ts'],
          testTimeout: 20_000,
        },
      },
      reactProject('react', '19'),
      // The same tests against React 18: react, react-dom and Testing Library (which imports
      // them) resolve to test/react18/node_modules, where npm installed React 18.
      reactProject('react18', '18', {
        react: react18('react'),
        'react-dom': react18('react-dom'),
        '@testing-library/react': react18('@testing-library/react'),
      }),
    ],
  },
})
