/** The relay's connection limit set on the `remem-relay` command line reaches the relay. */
import { afterEach, describe, expect, it } from 'vitest'
import { type CliRelay, startCliRelay } from './cliRelay.ts'
import { RawClient } from './rawClient.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function cliRelay(args: string[], env: Record<string, string> = {}): Promise<CliRelay> {
  const relay = await startCliRelay(['--port', '0', '--log-level', 'silent', ...args], env)
  cleanups.push(() => relay.stop())
  return relay
}

async function open(url: string): Promise<RawClient> {
  const client = await RawClient.open(url)
  cleanups.push(() => client.close())
  return client
}

describe('remem-relay --max-connections-per-ip', () => {
  it('with 1, a second connection from 127.0.0.1 gets HTTP 429', async () => {
    const relay = await cliRelay(['--max-connections-per-ip', '1'])
    const first = await open(relay.url)
    expect(await first.barrier()).toBeNull()
    await expect(RawClient.open(relay.url)).rejects.toMatchObject({ status: 429 })
    // The refusal is the limit, not a broken relay: the first connection still works.
    expect(await first.barrier()).toBeNull()
  })

  it('REMEM_MAX_CONNECTIONS_PER_IP=1 sets the same limit', async () => {
    const relay = await cliRelay([], { REMEM_MAX_CONNECTIONS_PER_IP: '1' })
    await open(relay.url)
    await expect(RawClient.open(relay.url)).rejects.toMatchObject({ status: 429 })
  })
})
