/**
 * Emits `sw.js` into the build: `serviceWorker.js` with the list of files to precache (the
 * page and every emitted asset) and a version that changes with them, so that a new build
 * installs a new worker and drops the old cache.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Plugin } from 'vite'

export function serviceWorker(): Plugin {
  return {
    name: 'remem-demo-service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const assets = Object.keys(bundle)
        .filter((file) => file !== 'index.html' && file !== 'sw.js' && !file.endsWith('.map'))
        .sort()
      const precache = ['./', ...assets.map((file) => `./${file}`)]
      const hash = createHash('sha256')
      for (const file of Object.keys(bundle).sort()) {
        const output = bundle[file]!
        hash.update(file).update(output.type === 'chunk' ? output.code : String(output.source))
      }
      const source = readFileSync(new URL('./serviceWorker.js', import.meta.url), 'utf8')
        .replace('self.__REMEM_PRECACHE__', JSON.stringify(precache))
        .replace('self.__REMEM_VERSION__', JSON.stringify(hash.digest('hex').slice(0, 12)))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}
