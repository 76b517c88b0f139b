#!/usr/bin/env node
// The `remem-relay` command: runs the compiled relay (dist/cli.js) with plain Node.
//
// In the remem repository itself (this package sits in the workspace whose root
// package.json is named "remem") it runs the TypeScript sources instead, so that tests and
// `npm run relay` never need a build and never run a stale one: tsx (a dev dependency of the
// repository, not of @remem/server) compiles them, and a resolve hook adds the
// `@remem/source` export condition so that workspace packages (`@remem/client`) resolve to
// their sources too — the equivalent of
// `node --conditions=@remem/source --import tsx src/cli.ts`.
import { readFileSync } from 'node:fs'
import { register } from 'node:module'

if (inRememRepository()) {
  const { register: registerTsx } = await import('tsx/esm/api')
  registerTsx()
  // Registered after tsx so it runs first (hooks chain last-in, first-out).
  register('./sourceCondition.js', import.meta.url)
  await import(new URL('../src/cli.ts', import.meta.url).href)
} else {
  await import(new URL('../dist/cli.js', import.meta.url).href)
}

/** True when this file is packages/server/bin/ of the remem workspace, not an installed copy. */
function inRememRepository() {
  try {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
    return root.name === 'remem' && Array.isArray(root.workspaces)
  } catch {
    return false
  }
}
