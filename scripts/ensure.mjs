// Makes sure what `npm start` and `npm test` need is installed: npm dependencies and a few
// Debian packages. Plain Node, no dependencies, so it runs before `npm install` has.
//
//   import { ensureNpmDeps, ensureDebianPackages, onPath } from './ensure.mjs'
//   node scripts/ensure.mjs            # npm deps (root + test harnesses) + redis-server, chromium, python3-redis
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Directories outside the npm workspace with their own package.json and lock file, installed
 * after the root: test/react18 holds React 18 for the `react18` Vitest project.
 */
export const testHarnesses = [join(root, 'test', 'react18')]

/** {@link ensureNpmDeps} for the root, then for each of {@link testHarnesses}. */
export function ensureAllNpmDeps() {
  ensureNpmDeps()
  for (const cwd of testHarnesses) ensureNpmDeps({ cwd })
}

/**
 * Installs npm dependencies when `node_modules` is missing or older than `package-lock.json`
 * (npm writes `node_modules/.package-lock.json` on every install). Uses `npm ci` when
 * `CI=true`. Exits the process if the install fails.
 */
export function ensureNpmDeps({ cwd = root } = {}) {
  const lock = join(cwd, 'package-lock.json')
  const installed = join(cwd, 'node_modules', '.package-lock.json')
  const stale =
    !existsSync(installed) ||
    (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs)
  if (!stale) return
  const ci = process.env.CI === 'true' || process.env.CI === '1'
  const install = ['install', '--no-audit', '--no-fund']
  const args = ci ? ['ci', '--no-audit', '--no-fund'] : install
  const state = existsSync(installed) ? 'out of date' : 'missing'
  console.log(`remem: node_modules is ${state}; running npm ${args.join(' ')}`)
  let status = npm(args, cwd)
  if (status !== 0 && ci) {
    // npm ci refuses a lock file that lacks optional packages the registry did not serve
    // (e.g. a mirror without other platforms' binaries); npm install accepts it.
    console.log(`remem: npm ci failed; falling back to npm ${install.join(' ')}`)
    status = npm(install, cwd)
  }
  if (status !== 0) {
    console.error(
      `remem: npm install failed (exit ${status}); fix the error above and run it again`,
    )
    process.exit(status || 1)
  }
}

function npm(args, cwd) {
  const result = spawnSync(npmCommand(), args, { cwd, stdio: 'inherit' })
  return result.status ?? 1
}

/**
 * @typedef {{ pkg: string, check: () => boolean }} DebianPackage
 *   `pkg`: the Debian package name; `check`: true when what we need from it is present.
 */

let aptUpdated = false

/**
 * Installs the Debian packages whose `check` fails, with apt-get, when we are root or
 * `sudo -n` works. Otherwise prints one line saying what to install and exits non-zero.
 *
 * @param {DebianPackage[]} list
 * @param {{ exit?: boolean }} [options] `exit: false` returns the names still missing instead of exiting.
 * @returns {string[]} the packages still missing (always empty unless `exit: false`)
 */
export function ensureDebianPackages(list, { exit = true } = {}) {
  const missing = list.filter((item) => !safeCheck(item)).map((item) => item.pkg)
  if (missing.length === 0) return []

  const sudo = privilegePrefix()
  if (sudo !== null && onPath('apt-get')) {
    console.log(`remem: installing ${missing.join(', ')} with apt-get`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const apt = (args) => {
      const argv = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]
      return spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env }).status === 0
    }
    if (!aptUpdated) aptUpdated = apt(['update'])
    apt(['install', '-y', ...missing])
  }

  const still = list
    .filter((item) => missing.includes(item.pkg) && !safeCheck(item))
    .map((item) => item.pkg)
  if (still.length === 0) return []
  if (!exit) return still
  const them = still.length === 1 ? 'it' : 'them'
  console.error(
    `remem: missing ${still.join(', ')}; install ${them} with: sudo apt-get install -y ${still.join(' ')}`,
  )
  process.exit(1)
}

/** The Debian packages `npm test` needs, with their checks. */
export const testPackages = {
  redis: { pkg: 'redis-server', check: () => onPath('redis-server') },
  chromium: {
    pkg: 'chromium',
    check: () => isExecutable(process.env.CHROMIUM_PATH || '/usr/bin/chromium'),
  },
  pythonRedis: {
    pkg: 'python3-redis',
    check: () =>
      spawnSync('/usr/bin/python3', ['-c', 'import redis'], { stdio: 'ignore' }).status === 0,
  },
}

/** True when `command` is an executable file in one of the PATH directories. */
export function onPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => isExecutable(join(dir, command)))
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function safeCheck(item) {
  try {
    return item.check()
  } catch {
    return false
  }
}

/** `[]` as root, `['sudo', '-n']` when passwordless sudo works, `null` otherwise. */
function privilegePrefix() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return []
  if (!onPath('sudo')) return null
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0 ? ['sudo', '-n'] : null
}

function npmCommand() {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm'
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureAllNpmDeps()
  ensureDebianPackages(Object.values(testPackages))
  console.log('remem: everything needed is installed')
}
