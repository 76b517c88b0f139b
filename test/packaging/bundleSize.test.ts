/**
 * The bundle-size budget (issue 10): what a browser app pulls in for each browser package
 * (bench/bundle.ts, minified + gzipped, from the built dist/) stays within
 * bench/size-budget.json plus 5 %, and nothing server-only reaches it.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  SERVER_ONLY,
  browserPackages,
  builtPackagesPresent,
  measureBundle,
} from '../../bench/bundle.ts'

/** How far over its budget a bundle may grow before this test fails. */
const TOLERANCE = 0.05

interface Budget {
  /** Minified + gzipped bytes. */
  gzip: number
}

const budgets = JSON.parse(
  readFileSync(new URL('../../bench/size-budget.json', import.meta.url), 'utf8'),
) as {
  packages: Record<string, Budget>
}

describe('browser bundle size', () => {
  it('is measured from the built packages', () => {
    expect(builtPackagesPresent(), 'run `npm run build` first').toBe(true)
  })

  it('has a budget for every browser package', () => {
    expect(Object.keys(budgets.packages).sort()).toEqual(browserPackages().sort())
  })

  for (const name of browserPackages()) {
    it(`${name} stays within its budget (+${TOLERANCE * 100} %) and pulls in nothing server-only`, async () => {
      const measured = await measureBundle(name, 'dist')
      const budget = budgets.packages[name]!.gzip
      console.log(
        `bundle: ${name} ${measured.minified} B minified, ${measured.gzip} B min+gzip (budget ${budget} B)`,
      )
      expect(measured.serverOnly).toEqual([])
      expect(
        measured.gzip,
        `${name} is ${measured.gzip} B min+gzip, over its budget of ${budget} B by more than ${TOLERANCE * 100} %: ` +
          'make it smaller, or raise bench/size-budget.json and say why in the commit',
      ).toBeLessThanOrEqual(Math.floor(budget * (1 + TOLERANCE)))
    })
  }

  it('keeps @remem/devtools out of apps that do not import it', async () => {
    for (const name of ['@remem/client', '@remem/react']) {
      const measured = await measureBundle(name, 'dist')
      expect(measured.byPackage.map((part) => part.name)).not.toContain('@remem/devtools')
    }
    // …and the check can see it where it is imported.
    const panel = await measureBundle('@remem/devtools', 'dist', {
      external: ['@remem/client', '@remem/react'],
    })
    console.log(
      `bundle: @remem/devtools own code ${panel.minified} B minified, ${panel.gzip} B min+gzip`,
    )
    expect(panel.byPackage.map((part) => part.name)).toEqual(['@remem/devtools'])
  })

  it('would notice a server-only package in a bundle', async () => {
    // `ws` in a browser bundle: the check above must be able to fail.
    const measured = await measureBundle('ws', 'dist')
    expect(measured.serverOnly).toContain('ws')
    expect(SERVER_ONLY).toEqual(expect.arrayContaining(['ioredis', 'ws', 'pino', 'jose']))
  })
})
