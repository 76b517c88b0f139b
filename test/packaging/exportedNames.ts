/** The public names of an installed package, read from its built declaration files. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface ExportedName {
  /** The import specifier, e.g. `@remem/client/protocol`. */
  specifier: string
  name: string
}

interface Conditions {
  types?: string | { default?: string }
}

/**
 * Every name exported (as a value or a type) by every entry point of the package in `dir`,
 * from the `export { … }` statements of the `.d.ts` files its `exports` map names.
 */
export function exportedNames(dir: string): ExportedName[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, Conditions>
  }
  const names: ExportedName[] = []
  for (const [subpath, conditions] of Object.entries(manifest.exports)) {
    const types = typeof conditions.types === 'string' ? conditions.types : conditions.types?.default
    if (types === undefined) throw new Error(`${manifest.name} exports ${subpath} without types`)
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, '')}`
    const declarations = readFileSync(join(dir, types), 'utf8')
    for (const block of declarations.matchAll(/^export \{([^}]*)\}/gm)) {
      for (const entry of block[1]!.split(',')) {
        const name = entry.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()?.trim()
        if (name) names.push({ specifier, name })
      }
    }
  }
  return names
}
