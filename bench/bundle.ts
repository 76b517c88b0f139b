/**
 * Issue 10: what a browser app pulls in. For each browser package (scripts/packages.ts) esbuild
 * bundles an app entry that imports everything the package exports (`export * from
 * '@remem/client'`), for the browser, minified, and the result is gzipped. The figure includes
 * the dependencies (yjs, lib0, y-protocols, idb-keyval; @remem/client for @remem/react) and
 * leaves out React itself, which the app has anyway.
 *
 * It bundles the built packages (`dist/`, what npm users get) once `npm run build` has run,
 * else the sources (the `@remem/source` condition), and says which.
 * test/packaging/bundleSize.test.ts holds the figures to bench/size-budget.json.
 */
import { existsSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { PACKAGES } from '../scripts/packages.ts'
import { type Cell, type Suite, formatBytes } from './lib.ts'

const root = new URL('../', import.meta.url)

/** Packages that only make sense on a server: none of them may reach a browser bundle. */
export const SERVER_ONLY = ['ioredis', 'ws', 'pino', 'jose', 'prom-client', '@remem/server']

/** Provided by the app, not counted. */
const APP_PROVIDED = ['react', 'react-dom', 'react/jsx-runtime', 'react-dom/client']

export interface BundleFigures {
  /** The package name, e.g. `@remem/client`. */
  name: string
  /** Bytes of the minified bundle. */
  minified: number
  /** Bytes of the minified bundle after gzip (level 9). */
  gzip: number
  /** Minified bytes per source package (`@remem/client`, `yjs`, …), largest first. */
  byPackage: Array<{ name: string; bytes: number }>
  /** Server-only packages (SERVER_ONLY) or Node built-ins found in the bundle; should be empty. */
  serverOnly: string[]
}

/** The browser packages of scripts/packages.ts, by name. */
export function browserPackages(): string[] {
  return PACKAGES.filter((pkg) => pkg.browser).map((pkg) => {
    const manifest = JSON.parse(readFileSync(new URL(`${pkg.dir}/package.json`, root), 'utf8')) as {
      name: string
    }
    return manifest.name
  })
}

/** True when every browser package has been built (`npm run build`). */
export function builtPackagesPresent(): boolean {
  return PACKAGES.filter((pkg) => pkg.browser).every((pkg) =>
    existsSync(new URL(`${pkg.dir}/dist/index.js`, root)),
  )
}

/**
 * Bundles `name` as a browser app that imports all of it would.
 * @param from `dist`: the built package (run `npm run build` first); `source`: its TypeScript sources.
 */
export async function measureBundle(
  name: string,
  from: 'dist' | 'source',
  {
    external = [],
  }: {
    /** Packages left out as well (e.g. to measure a package's own code). */ external?: string[]
  } = {},
): Promise<BundleFigures> {
  const result = await build({
    stdin: {
      contents: `export * from '${name}'`,
      resolveDir: new URL('.', root).pathname,
      loader: 'js',
    },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: from === 'source' ? ['@remem/source'] : [],
    define: { 'process.env.NODE_ENV': '"production"' },
    external: [...APP_PROVIDED, ...external],
    metafile: true,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error(`esbuild produced no output for ${name}`)
  const byPackage = new Map<string, number>()
  const serverOnly = new Set<string>()
  for (const outputMeta of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(outputMeta.inputs)) {
      const owner = packageOf(input)
      byPackage.set(owner, (byPackage.get(owner) ?? 0) + bytesInOutput)
    }
    for (const imported of outputMeta.imports) {
      if (imported.path.startsWith('node:')) serverOnly.add(imported.path)
    }
  }
  for (const input of Object.keys(result.metafile.inputs)) {
    const owner = packageOf(input)
    if (SERVER_ONLY.includes(owner)) serverOnly.add(owner)
  }
  return {
    name,
    minified: output.contents.byteLength,
    gzip: gzipSync(output.contents, { level: 9 }).byteLength,
    byPackage: [...byPackage]
      .map(([pkg, bytes]) => ({ name: pkg, bytes }))
      .filter((entry) => entry.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes),
    serverOnly: [...serverOnly].sort(),
  }
}

/** The npm package an esbuild input path belongs to (`packages/client/…` is `@remem/client`). */
function packageOf(input: string): string {
  const inModules = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
  if (inModules) return inModules[1]!
  const inWorkspace = /(?:^|\/)packages\/([^/]+)\//.exec(input)
  if (inWorkspace) return `@remem/${inWorkspace[1]}`
  return input
}

export const bundle: Suite = {
  name: 'bundle',
  issue: 10,
  title: 'minified + gzipped size of what a browser app pulls in',
  async run(ctx) {
    const from = builtPackagesPresent() ? 'dist' : 'source'
    const figures: Record<string, unknown> = { from }
    const rows: Cell[][] = []
    const parts: Cell[][] = []
    for (const name of browserPackages()) {
      ctx.progress(`bundling ${name} from ${from}`)
      const measured = await measureBundle(name, from)
      figures[name] = {
        minifiedBytes: measured.minified,
        gzipBytes: measured.gzip,
        serverOnly: measured.serverOnly,
      }
      rows.push([
        name,
        formatBytes(measured.minified),
        formatBytes(measured.gzip),
        measured.serverOnly.join(', ') || 'none',
      ])
      for (const part of measured.byPackage) parts.push([name, part.name, formatBytes(part.bytes)])
    }
    // The devtools panel's own code: what it adds to an app that already has client and react.
    const panel = await measureBundle('@remem/devtools', from, {
      external: ['@remem/client', '@remem/react'],
    })
    figures['@remem/devtools (own)'] = { minifiedBytes: panel.minified, gzipBytes: panel.gzip }
    rows.push([
      '@remem/devtools (own code: client, react external)',
      formatBytes(panel.minified),
      formatBytes(panel.gzip),
      panel.serverOnly.join(', ') || 'none',
    ])
    return {
      tables: [
        {
          title: 'Browser bundle (export * from the package; React excluded)',
          columns: ['package', 'minified', 'min + gzip', 'server-only modules'],
          rows,
          notes: [
            `bundled with esbuild from ${from === 'dist' ? 'the built dist/ (npm run build)' : 'the sources (run npm run build to measure dist/)'}, platform browser, minified; gzip level 9`,
            'budget: bench/size-budget.json, checked by npm test (fails above +5 %)',
          ],
        },
        {
          title: 'Minified bytes by source package',
          columns: ['bundle', 'from package', 'minified'],
          rows: parts,
        },
      ],
      figures,
    }
  },
}
