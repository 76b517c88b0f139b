/**
 * Whether the relay can do its job: its store (Redis) reachable. It follows the store's
 * status and, when that says up, proves it with a read that must answer within a timeout.
 */
import type { Store, StoreStatus } from '../store/Store.ts'

export interface HealthReport {
  ok: boolean
  store: Store['kind']
  storeStatus: StoreStatus
  error?: string
}

/** A memory name no client uses for real; reading its (empty) log is the probe. */
const PROBE_MEMORY = '__remem_healthz'

export class StoreHealth {
  private status: StoreStatus = 'up'
  private readonly off: () => void

  constructor(private readonly store: Store) {
    this.off = store.onStatus((status) => {
      this.status = status
    })
  }

  /** Whether the store was reachable when last heard of (no probe). */
  get up(): boolean {
    return this.status === 'up'
  }

  async check(timeoutMs = 1000): Promise<HealthReport> {
    const base = { store: this.store.kind }
    if (this.status === 'down') {
      return { ...base, ok: false, storeStatus: 'down', error: 'the store is unreachable' }
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await Promise.race([
        this.store.readSince(PROBE_MEMORY, '0-0'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
        }),
      ])
      return { ...base, ok: true, storeStatus: 'up' }
    } catch (error) {
      return {
        ...base,
        ok: false,
        storeStatus: 'down',
        error: `the store did not answer: ${(error as Error).message}`,
      }
    } finally {
      clearTimeout(timer)
    }
  }

  dispose(): void {
    this.off()
  }
}
