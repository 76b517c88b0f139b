import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources: no build before `npm start`.
  resolve: { conditions: ['@remem/source', ...defaultClientConditions] },
  esbuild: { jsx: 'automatic' },
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
})
