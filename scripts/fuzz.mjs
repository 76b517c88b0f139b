// `npm run fuzz`: a longer fuzz campaign against the relay (test/fuzz.test.ts), 500,000
// frames by default; `npm test` runs the same test with 50,000.
//
//   npm run fuzz
//   npm run fuzz -- --frames 2000000 --seed 7
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { root } from './ensure.mjs'

const { values } = parseArgs({
  options: { frames: { type: 'string' }, seed: { type: 'string' } },
  strict: true,
})
const frames = values.frames ?? process.env.REMEM_FUZZ_FRAMES ?? '500000'
const seed = values.seed ?? process.env.REMEM_FUZZ_SEED ?? String(Math.floor(Math.random() * 1e6))
for (const [name, value] of [
  ['--frames', frames],
  ['--seed', seed],
]) {
  if (!/^\d+$/.test(value)) {
    console.error(`remem fuzz: ${name} must be a whole number, got ${JSON.stringify(value)}`)
    process.exit(2)
  }
}
console.log(`remem fuzz: ${frames} frames, seed ${seed} (repeat with --seed ${seed})`)
const child = spawn(join(root, 'node_modules', '.bin', 'vitest'), ['run', 'test/fuzz.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, REMEM_FUZZ_FRAMES: frames, REMEM_FUZZ_SEED: seed },
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
