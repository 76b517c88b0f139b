import { defaultClientConditions, defineConfig } from 'vite'
import { serviceWorker } from './serviceWorkerPlugin.ts'

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources: no build of them first.
  resolve: { conditions: ['@remem/source', ...defaultClientConditions] },
  esbuild: { jsx: 'automatic' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  plugins: [serviceWorker()],
  build: {
    rollupOptions: {
      onwarn(warning, warn) {
        // `'use client'` at the top of @remem/react's hooks is for React Server Components
        // bundlers; a client bundle drops it, as intended.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'SOURCEMAP_ERROR') return
        warn(warning)
      },
    },
  },
})
