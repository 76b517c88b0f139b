/**
 * Builds the demo once for the whole run (`vite build`, with its service worker) into a
 * temporary directory; every test file's demo server serves it (helpers/startDemo.ts reads
 * `REMEM_DEMO_DIST`, which the workers inherit). The returned teardown removes it.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export default async function globalSetup(): Promise<() => void> {
  const outDir = mkdtempSync(join(tmpdir(), 'remem-demo-build-'))
  const viteBin = join(
    dirname(createRequire(join(root, 'demo/package.json')).resolve('vite/package.json')),
    'bin/vite.js',
  )
  const child = spawn(
    process.execPath,
    [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: join(root, 'demo'), stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) {
    rmSync(outDir, { recursive: true, force: true })
    throw new Error(`building the demo failed (vite build exited ${code}); see its output above`)
  }
  process.env.REMEM_DEMO_DIST = outDir
  return () => rmSync(outDir, { recursive: true, force: true })
}
