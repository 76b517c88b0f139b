/**
 * Every code snippet in README.md is a file in examples/, so that it typechecks, lints and
 * runs. A snippet is marked with the file it must equal:
 *
 *   <!-- example: examples/hello.ts -->
 *   ```ts
 *   …the exact contents of examples/hello.ts…
 *   ```
 *
 * This file checks that each marked snippet equals its file and that no TypeScript or
 * JavaScript snippet is unmarked. Then it runs each client example against a relay, as a
 * user would (`node --conditions=@remem/source --import tsx <file>`), and expects it to exit 0.
 */
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RelayHandle } from '@remem/server'
import { startRelay } from './helpers.ts'

const root = new URL('../', import.meta.url)
const readme = readFileSync(new URL('README.md', root), 'utf8')

const fence = /^```(\w*)\n([\s\S]*?)^```$/gm
const marker = /<!-- example: (\S+) -->\s*$/

interface Snippet {
  lang: string
  code: string
  file: string | undefined
}

const snippets: Snippet[] = [...readme.matchAll(fence)].map((match) => ({
  lang: match[1] ?? '',
  code: match[2] ?? '',
  file: marker.exec(readme.slice(0, match.index))?.[1],
}))

describe('README.md', () => {
  it('marks every TypeScript and JavaScript snippet with its example file', () => {
    const unmarked = snippets.filter(
      (s) => /^(ts|tsx|js|jsx|mjs|typescript|javascript)$/.test(s.lang) && s.file === undefined,
    )
    expect(unmarked.map((s) => s.code.split('\n')[0])).toEqual([])
  })

  it('shows the examples the quick start and "Without React" promise', () => {
    const files = snippets.map((s) => s.file)
    expect(files).toContain('examples/hello.ts')
    expect(files).toContain('examples/node-quickstart.ts')
  })

  for (const snippet of snippets.filter((s) => s.file !== undefined)) {
    it(`shows ${snippet.file} exactly`, () => {
      const source = readFileSync(new URL(snippet.file!, root), 'utf8')
      expect(snippet.code).toBe(source)
    })
  }
})

describe('README examples run', () => {
  let relay: RelayHandle
  beforeAll(async () => {
    relay = await startRelay()
  })
  afterAll(async () => {
    await relay.close()
  })

  const clientExamples = [...new Set(snippets.map((s) => s.file))].filter(
    // .tsx examples are React components: packages/react/src/__tests__ renders them.
    (file): file is string => file !== undefined && file.endsWith('.ts') && file !== 'examples/relay.ts',
  )
  for (const file of clientExamples) {
    it(`${file} runs against a relay and exits 0`, async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@remem/source', '--import', 'tsx', file],
        { cwd: fileURLToPath(root), env: { ...process.env, REMEM_URL: relay.url }, timeout: 30_000 },
      )
      expect(stdout.length).toBeGreaterThan(0)
    })
  }

  it('every React example is rendered by a test of @remem/react', () => {
    const reactTests = readdirSync(new URL('packages/react/src/__tests__/', root))
      .map((name) => readFileSync(new URL(`packages/react/src/__tests__/${name}`, root), 'utf8'))
      .join('\n')
    for (const file of snippets.map((s) => s.file).filter((f) => f?.endsWith('.tsx'))) {
      expect(reactTests).toContain(file!)
    }
  })

  it('node-quickstart.ts prints the state the reader received', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@remem/source', '--import', 'tsx', 'examples/node-quickstart.ts'],
      { cwd: fileURLToPath(root), env: { ...process.env, REMEM_URL: relay.url }, timeout: 30_000 },
    )
    expect(stdout).toContain("cpu: 0.42")
    expect(stdout).toContain('water the plants')
  })
})
