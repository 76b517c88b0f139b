/**
 * `npm run chaos:batch -- --seeds 1-50 [any npm run chaos option but --seed]`
 *
 * Runs the chaos suite once per seed, one after another (each a fresh `npm run chaos` process:
 * its own Redis, relays and writers), prints each run's last line, and at the end the totals
 * over every run (operations made and acknowledged, external writes, faults injected, epoch
 * moves, problems) and `CHAOS BATCH PASS` or `CHAOS BATCH FAIL: seeds …`. Exits 1 if any run failed.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

interface RunFigures {
  seed: number
  made: number
  acked: number
  external: { made: number; acked: number; uncertain: number }
  faults: Record<string, number>
  epochMoves?: number
  problems: number
}

function parseSeeds(text: string | undefined): number[] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text ?? '')
  if (!match) throw new Error(`--seeds takes N or A-B (e.g. 1-50), got ${text ?? 'nothing'}`)
  const from = Number(match[1])
  const to = Number(match[2] ?? match[1])
  if (to < from) throw new Error(`--seeds ${text}: the range is empty`)
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

const args = process.argv.slice(2)
const at = args.indexOf('--seeds')
let seeds: number[]
try {
  if (at < 0) throw new Error('--seeds is required')
  if (args.includes('--seed')) throw new Error('--seed is set per run: use --seeds A-B')
  seeds = parseSeeds(args[at + 1])
} catch (error) {
  console.error(
    `chaos:batch: ${(error as Error).message}\nusage: npm run chaos:batch -- --seeds 1-50 --seconds 60 [chaos options]`,
  )
  process.exit(2)
}
const passThrough = args.filter((_, i) => i !== at && i !== at + 1)
const main = fileURLToPath(new URL('./main.ts', import.meta.url))

/** Runs one seed; resolves with its figures (null if it printed none) and its last line. */
function runSeed(
  seed: number,
): Promise<{ figures: RunFigures | null; last: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@remem/source',
        '--import',
        'tsx',
        main,
        '--seed',
        String(seed),
        ...passThrough,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('close', (code) => {
      const lines = output.trimEnd().split('\n')
      const json = lines.find((line) => line.startsWith('CHAOS_JSON '))
      const failure = lines.filter((line) => /logs kept in/.test(line))
      resolve({
        figures: json ? (JSON.parse(json.slice('CHAOS_JSON '.length)) as RunFigures) : null,
        last: [...failure, lines.at(-1) ?? ''].join(' — '),
        code,
      })
    })
  })
}

const totals = {
  made: 0,
  acked: 0,
  externalMade: 0,
  externalAcked: 0,
  uncertain: 0,
  epochMoves: 0,
  problems: 0,
}
const faults: Record<string, number> = {}
const failed: number[] = []
const started = Date.now()
for (const seed of seeds) {
  const t0 = Date.now()
  const { figures, last, code } = await runSeed(seed)
  console.log(`seed ${seed} (${Math.round((Date.now() - t0) / 1000)} s): ${last}`)
  if (code !== 0 || !figures) failed.push(seed)
  if (!figures) continue
  totals.made += figures.made
  totals.acked += figures.acked
  totals.externalMade += figures.external.made
  totals.externalAcked += figures.external.acked
  totals.uncertain += figures.external.uncertain
  totals.epochMoves += figures.epochMoves ?? 0
  totals.problems += figures.problems
  for (const [kind, count] of Object.entries(figures.faults))
    faults[kind] = (faults[kind] ?? 0) + count
}
const injected = Object.values(faults).reduce((sum, count) => sum + count, 0)
console.log(
  `runs: ${seeds.length}, passed ${seeds.length - failed.length}, failed ${failed.length}, in ${Math.round((Date.now() - started) / 60_000)} min`,
)
console.log(`operations: made ${totals.made}, acknowledged ${totals.acked}`)
console.log(
  `external writes: made ${totals.externalMade}, acknowledged ${totals.externalAcked}, uncertain ${totals.uncertain}`,
)
console.log(
  `faults injected: ${injected} (${Object.entries(faults)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ')})`,
)
console.log(`epoch moves: ${totals.epochMoves}; problems: ${totals.problems}`)
console.log(
  failed.length === 0 ? 'CHAOS BATCH PASS' : `CHAOS BATCH FAIL: seeds ${failed.join(', ')}`,
)
process.exit(failed.length === 0 ? 0 : 1)
