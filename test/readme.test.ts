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
 * JavaScript snippet is unmarked.
 *
 * TODO(lead): also run each example against a relay — start one with `startRelay()` from
 * ./helpers.ts, then run `node --conditions=@remem/source --import tsx <file>` with
 * `REMEM_URL=relay.url` and expect exit code 0 (node-quickstart.ts exits only once the
 * reader saw the writer's change).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

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
