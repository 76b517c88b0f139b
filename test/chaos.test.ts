/**
 * The short chaos pass of `npm test`: the checker's self-test (a fake loss must FAIL), then a
 * few seeds of `npm run chaos` (real redis-server, relays, client processes and faults) that
 * must PASS. Longer runs: `npm run chaos -- --seed N --seconds 60` (docs/CHAOS.md).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Runs the chaos harness and resolves with its exit code and output. */
function chaos(args: string[]): Promise<{ code: number | null; output: string; last: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@remem/source', '--import', 'tsx', 'scripts/chaos/main.ts', ...args],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => {
      const last = output.trimEnd().split('\n').at(-1) ?? ''
      resolve({ code, output, last })
    })
  })
}

describe('chaos', () => {
  it('fails its self-test: an acknowledged change removed from the final state is reported lost', async () => {
    const run = await chaos(['--seed', '1', '--seconds', '6', '--writers', '2', '--self-test'])
    expect(run.last, run.output).toMatch(/^CHAOS FAIL: /)
    expect(run.output).toMatch(/self-test: removed /)
    expect(run.output).toMatch(/acknowledged ops not reflected/)
    expect(run.code).toBe(1)
  }, 150_000)

  for (const seed of [11, 12, 13]) {
    it(`loses nothing acknowledged under faults (seed ${seed}, 20 s)`, async () => {
      const run = await chaos(['--seed', String(seed), '--seconds', '20', '--settle-seconds', '45'])
      expect(run.last, run.output).toBe('CHAOS PASS')
      expect(run.output).toMatch(/operations: made \d+, acknowledged \d+/)
      expect(run.code).toBe(0)
    }, 200_000)
  }

  it('loses nothing acknowledged on a Redis Cluster while primaries are killed (seed 21, 12 s)', async () => {
    const run = await chaos(['--cluster', '--seed', '21', '--seconds', '12', '--settle-seconds', '45', '--faults', 'primaryKill,relayKill'])
    expect(run.last, run.output).toBe('CHAOS PASS')
    expect(run.output).toMatch(/primaryKill [1-9]/)
    expect(run.code).toBe(0)
  }, 200_000)
})
