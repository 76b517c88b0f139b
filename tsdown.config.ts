/**
 * `npm run build`: compiles every package in scripts/packages.ts with tsdown into its
 * `dist/` — ES modules that mirror `src/` file by file (so `'use client'` stays at the top
 * of each React module), `.d.ts` files with declaration maps, and source maps.
 *
 * Entry points come from each package.json: every `@remem/source` condition in `exports`
 * names a source file, and its `default` condition names the built file it becomes.
 */
import { readFileSync } from 'node:fs'
import { join, posix, relative } from 'node:path'
import { defineConfig, type UserConfig } from 'tsdown'
import { PACKAGES } from './scripts/packages.ts'

const root = import.meta.dirname

interface ExportConditions {
  '@remem/source'?: string
}

function sourceEntries(dir: string, extra: string[] = []): string[] {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    exports: Record<string, ExportConditions>
  }
  const fromExports = Object.values(pkg.exports)
    .map((conditions) => conditions['@remem/source'])
    .filter((file): file is string => typeof file === 'string')
  return [...fromExports, ...extra].map((file) => posix.normalize(file))
}

export default defineConfig(
  PACKAGES.map(
    (pkg): UserConfig => ({
      name: pkg.dir,
      cwd: join(root, pkg.dir),
      entry: sourceEntries(pkg.dir, pkg.entries),
      root: 'src',
      unbundle: true,
      format: 'esm',
      platform: pkg.browser ? 'neutral' : 'node',
      target: 'es2022',
      fixedExtension: false,
      sourcemap: true,
      tsconfig: relative(join(root, pkg.dir), join(root, 'tsconfig.build.json')),
      dts: { sourcemap: true },
      clean: true,
      failOnWarn: true,
      report: false,
      // The .d.ts pass takes most of the build; that is expected, not worth a warning.
      checks: { pluginTimings: false },
    }),
  ),
)
