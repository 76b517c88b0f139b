/** A relay asked to listen on a port another process uses says so in one line, and the process lives on. */
import { expect, it } from 'vitest'
import { EmbeddedStore } from '@remem/server'
import { startRelay } from './helpers.ts'

it('refuses a port in use with a clear error instead of crashing', async () => {
  const first = await startRelay({ store: new EmbeddedStore() })
  try {
    await expect(startRelay({ store: new EmbeddedStore(), port: first.port })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${first.port}: another process uses that port; choose another`,
    )
    // The first relay still serves.
    const response = await fetch(`http://127.0.0.1:${first.port}/healthz`)
    expect(response.status).toBe(200)
  } finally {
    await first.close()
  }
})
