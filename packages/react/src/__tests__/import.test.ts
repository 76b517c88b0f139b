// @vitest-environment node
import { expect, it } from 'vitest'

it('imports without touching window or document', async () => {
  const touched: string[] = []
  const names = ['window', 'document', 'navigator', 'self'] as const
  for (const name of names) {
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        // The frame below this getter is the code that touched the global.
        const caller = new Error().stack?.split('\n')[2]?.trim() ?? ''
        touched.push(`${name} ${caller}`)
        return undefined
      },
    })
  }
  let module: Record<string, unknown>
  try {
    module = await import('../index.ts')
  } finally {
    for (const name of names) Reflect.deleteProperty(globalThis, name)
  }
  expect(Object.keys(module).sort()).toEqual([
    'RememProvider',
    'usePresence',
    'useRememClient',
    'useSharedMemory',
    'useSyncStatus',
    'useUndo',
  ])
  // Dependencies may test `typeof window` (lib0 does); this package itself must not touch it.
  expect(touched.length).toBeGreaterThan(0) // the trap works
  expect(touched.filter((caller) => caller.includes('/packages/react/src/'))).toEqual([])
})
