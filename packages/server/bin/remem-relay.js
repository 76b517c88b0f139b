#!/usr/bin/env node
// The `remem-relay` command. A built package (dist/cli.js) runs as plain JavaScript. In the
// repository, where nothing is built, it runs the TypeScript sources in this same process:
// tsx compiles them, and a resolve hook adds the `@remem/source` export condition so that
// workspace packages (`@remem/client`) resolve to their sources too — the equivalent of
// `node --conditions=@remem/source --import tsx src/cli.ts`.
import { existsSync } from 'node:fs'
import { register } from 'node:module'

const built = new URL('../dist/cli.js', import.meta.url)

if (existsSync(built)) {
  await import(built.href)
} else {
  const { register: registerTsx } = await import('tsx/esm/api')
  registerTsx()
  // Registered after tsx so it runs first (hooks chain last-in, first-out).
  register('./sourceCondition.js', import.meta.url)
  await import(new URL('../src/cli.ts', import.meta.url).href)
}
