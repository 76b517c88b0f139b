import { defineConfig } from 'vitest/config'

const source = { conditions: ['@remem/source'] }

export default defineConfig({
  resolve: source,
  ssr: { resolve: { conditions: ['@remem/source'], externalConditions: ['@remem/source'] } },
  test: {
    reporters: process.env.REMEM_REPORT ? ['default', ['json', { outputFile: process.env.REMEM_REPORT }]] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'client', include: ['packages/client/src/**/__tests__/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['packages/server/src/**/__tests__/**/*.test.ts', 'test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'react',
          include: ['packages/react/src/**/__tests__/**/*.test.{ts,tsx}'],
          // Testing Library needs a DOM; the server-rendering tests opt out per file.
          environment: 'jsdom',
          setupFiles: ['packages/react/src/__tests__/setup.ts'],
          testTimeout: 20_000,
        },
      },
    ],
  },
})
