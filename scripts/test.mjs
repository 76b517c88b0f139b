// `npm test`: installs what is missing, then runs lint, typecheck, the build (`npm run
// build`), unit tests (vitest), the packaging tests (test/packaging: publint, attw, the
// bundle-size budget and the packed-tarball test, which need the build and the npm registry)
// and end-to-end tests (Playwright in the system Chromium), and ends with one line:
// `N passed, N failed`. Lint, typecheck and build count as one test each. Every step runs
// even when an earlier one failed, so the count covers everything. The summary is also
// written to .reports/summary.txt (.ci/run prints it last).
//
//   npm test                    everything
//   npm test -- --unit-only     skip the packaging and end-to-end tests
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureAllNpmDeps, ensureDebianPackages, root, testPackages } from './ensure.mjs'

const args = process.argv.slice(2)
const unitOnly = args.includes('--unit-only')
const unknown = args.filter((arg) => arg !== '--unit-only')
if (unknown.length > 0) {
  console.error(`remem test: unknown argument ${unknown.join(' ')}; the only option is --unit-only`)
  process.exit(2)
}

const reports = join(root, '.reports')
const vitestReport = join(reports, 'vitest.json')
const packagingReport = join(reports, 'packaging.json')
const playwrightReport = join(reports, 'playwright.json')
const summaryFile = join(reports, 'summary.txt')
mkdirSync(reports, { recursive: true })
for (const file of [vitestReport, packagingReport, playwrightReport, summaryFile]) rmSync(file, { force: true })

ensureAllNpmDeps()
ensureDebianPackages(
  unitOnly
    ? [testPackages.redis, testPackages.pythonRedis]
    : [testPackages.redis, testPackages.chromium, testPackages.pythonRedis],
)

/** @type {{ name: string, passed: number, failed: number, note?: string }[]} */
const results = []

const lint = await run('lint', 'eslint', ['.'])
results.push(single('lint', lint))

const typecheck = await run('typecheck', 'tsc', ['-p', 'tsconfig.json', '--noEmit'])
results.push(single('typecheck', typecheck))

const build = await run('build', 'tsdown', [])
results.push(single('build', build))

const unit = await run('unit', 'vitest', ['run'], { REMEM_REPORT: vitestReport })
results.push(fromVitest('unit', unit, vitestReport))

if (!unitOnly) {
  const packaging = await run('packaging', 'vitest', ['run', '-c', 'test/packaging/vitest.config.ts'], {
    REMEM_REPORT: packagingReport,
  })
  results.push(fromVitest('packaging', packaging, packagingReport))
}

if (!unitOnly) {
  const e2e = await run('e2e', 'playwright', ['test', '-c', 'e2e/playwright.config.ts'], {
    REMEM_REPORT_DIR: reports,
  })
  results.push(fromPlaywright(e2e))
}

const passed = results.reduce((sum, r) => sum + r.passed, 0)
const failed = results.reduce((sum, r) => sum + r.failed, 0)
const summary = `${passed} passed, ${failed} failed`
writeFileSync(summaryFile, summary + '\n')

console.log('\nremem test summary')
for (const r of results) {
  const note = r.note ? `  (${r.note})` : ''
  console.log(`  ${r.name.padEnd(11)} ${r.passed} passed, ${r.failed} failed${note}`)
}
console.log(summary)
process.exitCode = failed > 0 ? 1 : 0

/**
 * Runs a tool from node_modules/.bin with inherited output.
 * @returns {Promise<number>} its exit code (1 if it died by a signal or did not start)
 */
function run(name, bin, argv, env = {}) {
  console.log(`\n── ${name}: ${bin} ${argv.join(' ')}`)
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', bin), argv, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    })
    child.on('error', (error) => {
      console.error(`remem test: could not start ${bin}: ${error.message}`)
      resolve(1)
    })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

function single(name, code) {
  return code === 0 ? { name, passed: 1, failed: 0 } : { name, passed: 0, failed: 1 }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

function fromVitest(name, code, reportFile) {
  const report = existsSync(reportFile) ? readJson(reportFile) : undefined
  if (!report) return { name, passed: 0, failed: 1, note: 'no report: vitest crashed' }
  const passed = report.numPassedTests ?? 0
  let failed = report.numFailedTests ?? 0
  // A test file that fails to load has no tests, so numFailedTests misses it.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) =>
      file.status === 'failed' &&
      !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length
  failed += brokenFiles
  const notes = []
  if (brokenFiles > 0) notes.push(`${brokenFiles} file(s) failed to run`)
  if (failed === 0 && code !== 0) {
    failed = 1
    notes.push(`vitest exited ${code}: see its output`)
  }
  return { name, passed, failed, ...(notes.length ? { note: notes.join('; ') } : {}) }
}

function fromPlaywright(code) {
  const report = existsSync(playwrightReport) ? readJson(playwrightReport) : undefined
  if (!report?.stats)
    return { name: 'e2e', passed: 0, failed: 1, note: 'no report: playwright crashed' }
  const { expected = 0, unexpected = 0, flaky = 0 } = report.stats
  const passed = expected + flaky
  let failed = unexpected
  const notes = []
  if (flaky > 0) notes.push(`${flaky} flaky`)
  if (failed === 0 && code !== 0) {
    failed = 1
    const first = report.errors?.[0]?.message?.split('\n')[0]
    notes.push(first ? `playwright: ${first}` : `playwright exited ${code}: see its output`)
  }
  return { name: 'e2e', passed, failed, ...(notes.length ? { note: notes.join('; ') } : {}) }
}
