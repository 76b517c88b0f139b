/**
 * Each published package (scripts/packages.ts), as built by `npm run build`: publint
 * --strict and `attw --pack --profile esm-only` pass, `'use client'` survived the build,
 * and from the repository root plain Node resolves the packages to `dist/`.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PACKAGES } from '../../scripts/packages.ts'
import { repoRoot, run } from './consumer.ts'

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name)

describe.each(PACKAGES.map((pkg) => [pkg.dir, pkg] as const))('%s', (dir) => {
  const packageDir = join(repoRoot, dir)
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string
    license?: string
    exports: Record<string, { types?: unknown; default?: string }>
  }

  it('publint --strict finds nothing', async () => {
    const { stdout } = await run(bin('publint'), ['--strict'], packageDir)
    expect(stdout).toContain('All good!')
  })

  it('attw --pack --profile esm-only finds no problem', async () => {
    // attw exits non-zero on any problem the profile does not ignore.
    const { stdout } = await run(bin('attw'), ['--pack', '--profile', 'esm-only', '--format', 'table-flipped'], packageDir)
    expect(stdout).toContain('🟢')
  })

  it('has an MIT license, a README and exports whose types come first and point at dist', () => {
    expect(manifest.license).toBe('MIT')
    expect(readFileSync(join(packageDir, 'README.md'), 'utf8')).toMatch(new RegExp(`npm install (-D )?${manifest.name}`))
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      expect(Object.keys(conditions)[0], `${manifest.name} exports ${subpath}`).toBe('types')
      expect(conditions.default, `${manifest.name} exports ${subpath}`).toMatch(/^\.\/dist\/.+\.js$/)
    }
  })
})

describe("'use client'", () => {
  it('stays at the top of every built module whose source has it (React Server Components)', () => {
    const directive = /^['"]use client['"]/
    const checked: string[] = []
    const lost: string[] = []
    for (const pkg of PACKAGES) {
      const src = join(repoRoot, pkg.dir, 'src')
      const sources = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
        (file) => /\.tsx?$/.test(file) && !file.includes('__tests__'),
      )
      for (const file of sources.filter((file) => directive.test(readFileSync(join(src, file), 'utf8')))) {
        const built = join(pkg.dir, 'dist', file.replace(/\.tsx?$/, '.js'))
        checked.push(built)
        if (!directive.test(readFileSync(join(repoRoot, built), 'utf8'))) lost.push(built)
      }
    }
    expect(checked.some((file) => file.startsWith('packages/react/'))).toBe(true)
    expect(lost, "built files that lost 'use client'").toEqual([])
  })
})

describe('from the repository root, after a build', () => {
  it('plain node resolves the packages to dist/ and imports them', async () => {
    const names = PACKAGES.map((pkg) => JSON.parse(readFileSync(join(repoRoot, pkg.dir, 'package.json'), 'utf8')).name as string)
    const script = `for (const name of ${JSON.stringify(names)}) { const m = await import(name); console.log(import.meta.resolve(name), Object.keys(m).length) }`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], repoRoot)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(names.length)
    for (const [i, pkg] of PACKAGES.entries()) {
      expect(lines[i]).toMatch(new RegExp(`/${pkg.dir}/dist/index\\.js \\d+$`))
      expect(Number(lines[i]!.split(' ')[1])).toBeGreaterThan(0)
    }
  })
})
