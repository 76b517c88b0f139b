/**
 * Reads V8 CPU profiles (the `.cpuprofile` format of `node --cpu-prof`) and lists the
 * functions with the most self time, the files with the most self time, and the relay's
 * own functions with the most total (inclusive) time, for the `peers` suite's `--profile`.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** The relay's own code, from its sources (`--source`) or as built (the default). */
const RELAY_CODE = /\/packages\/server\/(src|dist)\//

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to the repository or node_modules (no line for .ts files). */
  name: string
  ms: number
  /** Share of all busy (non-idle) sampled time. */
  share: number
}

export interface ProfileSummary {
  /** Functions by self time. */
  self: ProfileEntry[]
  /** Files (packages under node_modules, `(native)` for V8 and Node built-ins) by self time. */
  files: ProfileEntry[]
  /** Functions of the relay (`packages/server/src`, or `dist` as built) by total time (their own and their callees'). */
  relayTotal: ProfileEntry[]
  totalMs: number
  idleMs: number
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length)
  const packages = url.indexOf('/packages/')
  if (packages >= 0) return url.slice(packages + 1)
  return url.replace(/^file:\/\//, '')
}

/** The package (`yjs`, `@hocuspocus/server`) or repository file a URL belongs to. */
function fileOf(url: string): string {
  if (!url || url.startsWith('node:')) return '(native)'
  const short = shortUrl(url)
  if (!url.includes('node_modules/')) return short
  const parts = short.split('/')
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
}

const add = (map: Map<string, number>, key: string, ms: number): void => {
  map.set(key, (map.get(key) ?? 0) + ms)
}

/**
 * Sums the profiles at `paths`. The first and last sample of each are left out: they hold
 * the inspector calls that started and stopped the profiler.
 */
export function summarizeProfiles(paths: string[], top = 20): ProfileSummary {
  const self = new Map<string, number>()
  const files = new Map<string, number>()
  const relayTotal = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const path of paths) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
    const nodes = new Map<number, ProfileNode>()
    const parents = new Map<number, number>()
    for (const node of profile.nodes) {
      nodes.set(node.id, node)
      for (const child of node.children ?? []) parents.set(child, node.id)
    }
    const nameOf = (node: ProfileNode): string => {
      const { functionName, url, lineNumber } = node.callFrame
      // tsx compiles each TypeScript file to one line: its line numbers say nothing.
      const line = url.endsWith('.ts') ? '' : `:${lineNumber + 1}`
      return `${functionName || '(anonymous)'}${url ? ` (${shortUrl(url)}${line})` : ''}`
    }
    for (let i = 1; i < profile.samples.length - 1; i++) {
      const node = nodes.get(profile.samples[i]!)
      if (!node) continue
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
      total += ms
      if (node.callFrame.functionName === '(idle)') {
        idle += ms
        continue
      }
      add(self, nameOf(node), ms)
      add(files, fileOf(node.callFrame.url), ms)
      // Each relay function on the stack once, however deep it recurses.
      const onStack = new Set<string>()
      for (let id: number | undefined = node.id; id !== undefined; id = parents.get(id)) {
        const frame = nodes.get(id)!
        if (RELAY_CODE.test(frame.callFrame.url)) onStack.add(nameOf(frame))
      }
      for (const name of onStack) add(relayTotal, name, ms)
    }
  }
  const busy = total - idle
  const ranked = (map: Map<string, number>): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / busy }))
  return { self: ranked(self), files: ranked(files), relayTotal: ranked(relayTotal), totalMs: total, idleMs: idle }
}
