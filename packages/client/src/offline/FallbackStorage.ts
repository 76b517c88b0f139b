/**
 * Wraps the storage a client asked for and switches every memory to memory storage at the
 * first failure (IndexedDB missing, blocked, or over its quota), reporting it once. Nothing
 * is lost in the session: every change also lives in the memory's queue in memory until
 * the relay acknowledges it; it is only no longer kept across a reload. The `written` of its
 * appends never rejects: a failure is reported here.
 */
import { StorageError } from '../errors.ts'
import { ownBuffer } from './bytePool.ts'
import { createMemoryStorage, keepsBytesInProcess } from './memoryStorage.ts'
import type {
  Appended,
  MemoryStorage,
  StorageAdapter,
  StorageKind,
  StoredState,
} from './Storage.ts'

export class FallbackStorage implements StorageAdapter {
  private readonly memory = createMemoryStorage()
  private failure: StorageError | null = null

  constructor(
    private readonly primary: StorageAdapter,
    /** Called once, at the first failure. */
    private readonly onFallback: (error: StorageError) => void,
  ) {}

  get kind(): StorageKind {
    return this.failure ? 'memory' : this.primary.kind
  }

  open(relayUrl: string, memory: string, clientId: string): MemoryStorage {
    let primary: MemoryStorage | null = null
    let fallback: MemoryStorage | null = null
    try {
      primary = this.primary.open(relayUrl, memory, clientId)
    } catch (error) {
      this.fail(error, 'opening')
    }
    const current = (): MemoryStorage =>
      !this.failure && primary
        ? primary
        : (fallback ??= this.memory.open(relayUrl, memory, clientId))

    const guard = <T>(
      action: string,
      operation: Promise<T>,
      otherwise: () => T | Promise<T>,
    ): Promise<T> =>
      operation.catch((error: unknown) => {
        this.fail(error, action)
        return otherwise()
      })

    return {
      load: async (): Promise<StoredState> => {
        const storage = current()
        if (storage !== primary) return storage.load()
        return guard('loading', storage.load(), () => current().load())
      },
      append: (bytes): Appended => {
        const storage = current()
        // Memory storage does not fail: no guard (one promise less per change).
        if (keepsBytesInProcess(storage)) return storage.append(bytes)
        // Other storages may clone what they are given (IndexedDB does): no view of a shared buffer.
        const update = ownBuffer(bytes)
        if (storage !== primary || this.primary.kind === 'memory') return storage.append(update)
        let appended: Appended
        try {
          appended = storage.append(update)
        } catch (error) {
          this.fail(error, 'writing')
          return current().append(update)
        }
        return { key: appended.key, written: guard('writing', appended.written, () => undefined) }
      },
      checkpoint: async (doc, acknowledged) => {
        const storage = current()
        if (storage !== primary) return storage.checkpoint(doc, acknowledged)
        return guard('writing', storage.checkpoint(doc, acknowledged), () =>
          current().checkpoint(doc, acknowledged),
        )
      },
      close: async () => {
        await Promise.all([primary?.close().catch(() => undefined), fallback?.close()])
      },
    }
  }

  private fail(error: unknown, action: string): void {
    if (this.failure) return
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    this.failure = new StorageError(
      `${action} ${this.primary.kind} failed (${reason}); changes are now kept in memory only for this session ` +
        `and are still sent to the relay. Free up storage or allow IndexedDB for this site to keep changes across reloads.`,
      { cause: error },
    )
    this.onFallback(this.failure)
  }
}
