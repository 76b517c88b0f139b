/**
 * What the relay's inspector (`/inspect`) follows as it happens, per memory: updates and
 * acknowledgements over the last minute, recent refusals, and a live tail of the updates
 * applied to loaded memories (from clients, from other relays through the store, and from
 * external writes to plain keys). Everything else it shows is read when asked
 * (inspectReport.ts).
 */
import { errorCodeName } from '@remem/client/protocol'
import type { Logger } from '../logger.ts'
import type { MemoryRoom } from '../MemoryRoom.ts'
import { INGEST_ORIGIN } from '../ProjectionBridge.ts'
import type { RoomEvents } from '../ops/metrics.ts'
import { RateWindow } from './RateWindow.ts'

/** A refused request, as the inspector lists it. */
export interface InspectedRefusal {
  readonly at: number
  /** The memory, or null for a connection-level refusal (a token, an upgrade). */
  readonly memory: string | null
  readonly reason: string
}

/** One update applied to a loaded memory. */
export interface TailEntry {
  readonly at: number
  readonly memory: string
  readonly bytes: number
  /** `client`, `store` (another relay), `plain key` (an external write to a projection key), or `relay` (the inspector's own writes). */
  readonly from: string
}

interface MemoryActivity {
  updates: RateWindow
  acks: RateWindow
  refusals: InspectedRefusal[]
}

const KEEP_REFUSALS = 50
const KEEP_TAIL = 200

export class RelayInspector {
  readonly #activity = new Map<string, MemoryActivity>()
  readonly #refusals: InspectedRefusal[] = []
  readonly #tail: TailEntry[] = []
  readonly #followed = new WeakMap<MemoryRoom, () => void>()

  /** Room events that count per memory, then pass on to `next` (the metrics). */
  roomEvents(name: string, next: RoomEvents | null): RoomEvents {
    const activity = this.#of(name)
    return {
      updateAccepted: () => {
        activity.updates.add()
        next?.updateAccepted()
      },
      acked: (latencyMs) => {
        activity.acks.add()
        next?.acked(latencyMs)
      },
    }
  }

  /**
   * The relay's logger, also telling the inspector about refusals. Sessions log every
   * refusal (`refused a client request`, with the memory, code and message; `refused a
   * token`; `refused a connection`), which is where the inspector hears of them.
   */
  tapLogger(logger: Logger): Logger {
    return {
      info: (message, data) => logger.info(message, data),
      error: (message, data) => logger.error(message, data),
      warn: (message, data) => {
        if (message.startsWith('refused'))
          this.#refused(message, data as Record<string, unknown> | undefined)
        logger.warn(message, data)
      },
    }
  }

  /** Starts the tail of `room` (once per room). */
  follow(room: MemoryRoom): void {
    if (this.#followed.has(room)) return
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      this.#tail.push({
        at: Date.now(),
        memory: room.name,
        bytes: update.byteLength,
        from: describeOrigin(origin),
      })
      if (this.#tail.length > KEEP_TAIL * 1.5) this.#tail.splice(0, this.#tail.length - KEEP_TAIL)
    }
    room.doc.on('update', onUpdate)
    this.#followed.set(room, () => room.doc.off('update', onUpdate))
  }

  /** Updates and acks per second over the last minute, and recent refusals, of `name`. */
  activity(name: string): {
    updatesPerSecond: number
    acksPerSecond: number
    refusals: readonly InspectedRefusal[]
  } {
    const activity = this.#activity.get(name)
    if (!activity) return { updatesPerSecond: 0, acksPerSecond: 0, refusals: [] }
    const now = Date.now()
    return {
      updatesPerSecond: activity.updates.perSecond(now),
      acksPerSecond: activity.acks.perSecond(now),
      refusals: [...activity.refusals],
    }
  }

  /** Refusals that concern no single memory (tokens, upgrades), newest last. */
  get relayRefusals(): readonly InspectedRefusal[] {
    return [...this.#refusals]
  }

  /** The latest updates of every loaded memory, oldest first (at most 200). */
  get tail(): readonly TailEntry[] {
    return this.#tail.slice(-KEEP_TAIL)
  }

  #of(name: string): MemoryActivity {
    let activity = this.#activity.get(name)
    if (!activity) {
      activity = { updates: new RateWindow(), acks: new RateWindow(), refusals: [] }
      this.#activity.set(name, activity)
    }
    return activity
  }

  #refused(message: string, data: Record<string, unknown> | undefined): void {
    const memory = typeof data?.memory === 'string' ? data.memory : null
    const detail =
      typeof data?.message === 'string'
        ? data.message
        : typeof data?.reason === 'string'
          ? data.reason
          : message
    const code = typeof data?.code === 'number' ? `${errorCodeName(data.code)}: ` : ''
    const refusal: InspectedRefusal = { at: Date.now(), memory, reason: `${code}${detail}` }
    const list = memory === null ? this.#refusals : this.#of(memory).refusals
    list.push(refusal)
    if (list.length > KEEP_REFUSALS) list.shift()
  }
}

function describeOrigin(origin: unknown): string {
  if (origin === INGEST_ORIGIN) return 'plain key'
  if (typeof origin === 'symbol') return origin.description === 'store' ? 'store' : 'relay'
  if (origin !== null && typeof origin === 'object' && 'socket' in origin) return 'client'
  return 'relay'
}
