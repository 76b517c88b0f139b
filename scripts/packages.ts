/**
 * The published packages. `npm run build` (tsdown.config.ts), the publint/attw checks, the
 * bundle-size budget and the packed-tarball test (test/packaging/) all read this list:
 * publishing another package (e.g. packages/devtools) is one entry here.
 */
export interface PublishedPackage {
  /** The package directory, relative to the repository root. */
  dir: string
  /**
   * Source files to compile besides those named by the `@remem/source` conditions of the
   * package.json `exports` (e.g. the relay's command line).
   */
  entries?: string[]
  /** True when a browser app may import it: its build targets browsers and its bundle size is budgeted. */
  browser?: boolean
}

export const PACKAGES: PublishedPackage[] = [
  { dir: 'packages/client', browser: true },
  { dir: 'packages/server', entries: ['src/cli.ts'] },
  { dir: 'packages/react', browser: true },
  { dir: 'packages/devtools', browser: true },
]
