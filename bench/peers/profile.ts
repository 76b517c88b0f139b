/**
 * Reads V8 CPU profiles (`node --cpu-prof`) and lists the functions with the most self
 * time, for the `peers` suite's `--profile` option.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to the repository or node_modules. */
  name: string
  selfMs: number
  /** Share of all sampled time (idle included). */
  share: number
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length)
  const packages = url.indexOf('/packages/')
  if (packages >= 0) return url.slice(packages + 1)
  return url.replace(/^file:\/\//, '') || '(native)'
}

/** The `top` entries by self time, summed over the profiles at `paths`. */
export function topSelfTime(paths: string[], top = 20): { entries: ProfileEntry[]; totalMs: number; idleMs: number } {
  const self = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const path of paths) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
    const names = new Map<number, string>()
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame
      names.set(node.id, `${functionName || '(anonymous)'}${url ? ` (${shortUrl(url)}:${lineNumber + 1})` : ''}`)
    }
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000
      const name = names.get(id) ?? '?'
      total += ms
      if (name === '(idle)') idle += ms
      self.set(name, (self.get(name) ?? 0) + ms)
    })
  }
  const entries = [...self]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, share: selfMs / (total - idle) }))
  return { entries, totalMs: total, idleMs: idle }
}
