/**
 * The relay: a WebSocket server whose connections share memory rooms. It loads a room
 * when the first client opens a memory, unloads it after `idleUnloadMs` without clients,
 * follows the store's status to catch up after outages, and shuts down gracefully.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CloseCode } from '@remem/client/protocol'
import { WebSocketServer } from 'ws'
import type { AccessPolicy } from './auth/AccessPolicy.ts'
import { ClientSession, type SessionHost } from './ClientSession.ts'
import { ConnectionGate } from './limits/ConnectionGate.ts'
import { type FrameRates, frameRates } from './limits/FrameBudget.ts'
import type { RelayLimits } from './limits/limits.ts'
import type { Logger } from './logger.ts'
import { MemoryRoom, type RoomOptions } from './MemoryRoom.ts'
import { RelayMetrics, type RoomEvents } from './ops/metrics.ts'
import { StoreHealth } from './ops/StoreHealth.ts'
import type { ProjectionStats } from './ProjectionBridge.ts'
import type { Store } from './store/Store.ts'

export interface RelaySettings {
  idleUnloadMs: number
  /** With keyspace notifications off: how often loaded memories reconcile. 0: never. */
  reconcileIntervalMs: number
  heartbeatMs: number
  maxFrameBytes: number
  shutdownTimeoutMs: number
  room: Omit<RoomOptions, 'store' | 'relayId' | 'logger' | 'stats' | 'events'>
  limits: RelayLimits
  /** Who may open which memory (tokens, the authorize hook, or open). */
  policy: AccessPolicy
  /** Keep Prometheus metrics (served at /metrics). */
  metrics: boolean
}

/** Waits for `work`, but no longer than `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

export class Relay implements SessionHost {
  /** Unique id of this relay, tagged on everything it publishes. */
  readonly id = randomUUID()
  readonly rooms = new Map<string, MemoryRoom>()
  readonly sessions = new Set<ClientSession>()
  private readonly opening = new Map<string, Promise<MemoryRoom>>()
  private readonly unloadTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly wss: WebSocketServer
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly offStatus: () => void
  private closing: Promise<void> | null = null
  private stopWatching: (() => Promise<void>) | null = null
  /** Called once the last session has closed, while the relay waits for that in `close`. */
  private onLastSessionClosed: (() => void) | null = null
  private reconcileTimer: ReturnType<typeof setInterval> | null = null
  /** Counters of projection work: external changes ingested, keys written. */
  readonly stats: ProjectionStats = { ingests: 0, projected: 0 }
  /** Whether the store answers (for /healthz and the metrics). */
  readonly health: StoreHealth
  /** Prometheus metrics of this relay, or null when turned off. */
  readonly metrics: RelayMetrics | null
  /** Checks origins and connections per address on every upgrade. */
  readonly connections: ConnectionGate
  readonly policy: AccessPolicy
  readonly limits: RelayLimits
  readonly inboundRates: FrameRates
  /** Room events per memory on top of the metrics (set by the inspector), or null. */
  roomEvents: ((name: string) => RoomEvents) | null = null

  constructor(
    readonly server: Server,
    readonly store: Store,
    readonly logger: Logger,
    private readonly settings: RelaySettings,
    private readonly ownsStore: boolean,
  ) {
    this.policy = settings.policy
    this.limits = settings.limits
    this.inboundRates = frameRates({
      messagesPerSecond: settings.limits.maxMessagesPerSecond,
      bytesPerSecond: settings.limits.maxBytesPerSecond,
      maxFrameBytes: settings.maxFrameBytes,
    })
    this.health = new StoreHealth(store)
    this.metrics = settings.metrics
      ? new RelayMetrics({
          sessions: this.sessions,
          rooms: this.rooms,
          stats: this.stats,
          storeUp: () => this.health.up,
        })
      : null
    this.connections = new ConnectionGate(settings.limits, (reason, request) => {
      this.metrics?.refused(reason)
      logger.warn('refused a connection', { reason, address: request.socket.remoteAddress, origin: request.headers.origin })
    })
    this.wss = new WebSocketServer({
      server,
      maxPayload: settings.maxFrameBytes,
      // The relay keeps its sessions itself; ws's own set would cost each connection a
      // closure, a 'close' listener and a set entry (about 180 bytes).
      clientTracking: false,
      verifyClient: (info, callback) => {
        // Shutting down: refuse at the upgrade (HTTP 503), which is cheaper than accepting a
        // socket only to close it, and which clients count as a failed connect (backoff grows).
        if (this.closing) return callback(false, 503, 'relay shutting down')
        this.connections.verify(info, callback)
      },
    })
    // ws re-emits the HTTP server's errors here; listening errors reach `createRelay` from the
    // server itself (an unheard 'error' here would crash the process first).
    this.wss.on('error', () => undefined)
    this.wss.on('connection', (socket, request: IncomingMessage) => {
      // Upgraded just before shutdown began: turn it away at once, since a socket accepted now
      // would keep wss.close() waiting, and could open a room after the rooms were closed.
      if (this.closing) return socket.close(CloseCode.goingAway, 'relay shutting down')
      const address = this.connections.opened(request)
      this.sessions.add(new ClientSession(socket, this, request, address))
    })
    this.heartbeat = setInterval(() => this.beat(), settings.heartbeatMs)
    this.heartbeat.unref()
    this.offStatus = store.onStatus((status) => {
      if (status === 'down') return logger.warn('store unreachable; acknowledgements withheld')
      logger.info('store reachable again; catching up', { memories: this.rooms.size })
      for (const room of this.rooms.values()) {
        room.retryNow()
        void room.catchUp().catch(() => undefined)
      }
      this.reconcileAll()
    })
  }

  /**
   * Follows changes other clients make to projection keys. Rejects (naming what to run)
   * when the store cannot notify and keyspace notifications were not turned off.
   */
  async start(): Promise<void> {
    this.stopWatching = await this.store.projection.watch(
      (event) => this.rooms.get(event.name)?.bridge?.onKeyEvent(event.key),
      () => this.reconcileAll(),
    )
    if (this.settings.reconcileIntervalMs > 0) {
      this.reconcileTimer = setInterval(() => this.reconcileAll(), this.settings.reconcileIntervalMs)
      this.reconcileTimer.unref()
    }
  }

  /** The `ws://` URL clients connect to. */
  get url(): string {
    const address = this.server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `ws://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Compares every loaded memory with its projection keys (after missed notifications). */
  reconcileAll(): void {
    for (const room of this.rooms.values()) void room.bridge?.reconcile().catch(() => undefined)
  }

  sessionClosed(session: ClientSession, address: string): void {
    this.sessions.delete(session)
    this.connections.closed(address)
    if (this.sessions.size === 0) this.onLastSessionClosed?.()
  }

  openRoom(name: string): Promise<MemoryRoom> {
    if (this.closing) return Promise.reject(new Error('the relay is shutting down'))
    const timer = this.unloadTimers.get(name)
    if (timer) {
      clearTimeout(timer)
      this.unloadTimers.delete(name)
    }
    const existing = this.opening.get(name)
    if (existing) return existing
    const room = new MemoryRoom(name, {
      ...this.settings.room,
      stats: this.stats,
      store: this.store,
      relayId: this.id,
      logger: this.logger,
      events: this.roomEvents?.(name) ?? this.metrics,
    })
    const ready = room.ready.then(
      () => {
        this.rooms.set(name, room)
        return room
      },
      async (error: unknown) => {
        this.opening.delete(name)
        await room.close()
        this.logger.error('loading a memory failed', { memory: name, error: String(error) })
        throw error
      },
    )
    this.opening.set(name, ready)
    return ready
  }

  releaseRoom(room: MemoryRoom): void {
    if (room.sessions.size > 0 || this.closing || this.unloadTimers.has(room.name)) return
    const timer = setTimeout(() => {
      this.unloadTimers.delete(room.name)
      void this.unload(room)
    }, this.settings.idleUnloadMs)
    timer.unref()
    this.unloadTimers.set(room.name, timer)
  }

  private async unload(room: MemoryRoom): Promise<void> {
    await room.whenPersisted()
    if (room.sessions.size > 0 || this.opening.get(room.name) === undefined) return
    if (this.unloadTimers.has(room.name)) return
    this.opening.delete(room.name)
    this.rooms.delete(room.name)
    await room.close()
  }

  private beat(): void {
    for (const session of this.sessions) {
      if (!session.alive) {
        session.socket.terminate()
        continue
      }
      session.alive = false
      session.socket.ping()
    }
  }

  /** Stops accepting, persists and acknowledges what is queued, closes every socket. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat)
      if (this.reconcileTimer) clearInterval(this.reconcileTimer)
      for (const timer of this.unloadTimers.values()) clearTimeout(timer)
      this.unloadTimers.clear()
      this.offStatus()
      this.health.dispose()
      const persisted = Promise.all([...this.rooms.values()].map((room) => room.whenPersisted()))
      await within(persisted, this.settings.shutdownTimeoutMs)
      const sessionsClosed = new Promise<void>((resolve) => {
        this.onLastSessionClosed = resolve
        if (this.sessions.size === 0) resolve()
      })
      for (const session of this.sessions) session.close(CloseCode.goingAway, 'relay shutting down')
      const released = (async () => {
        // Every room, loaded or still loading when close() began (openRoom refuses new ones).
        const rooms = await Promise.allSettled([...this.opening.values()])
        await Promise.all(rooms.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)))
        // Keyspace events were followed until now: external writes made while the rooms
        // persisted were ingested (a closing room ingests nothing; the next relay does).
        await this.stopWatching?.().catch(() => undefined)
      })()
      // Closing rooms talks to the store (last projection, unsubscribing); a store that does
      // not answer (a paused Redis) must not keep the relay from exiting. What a room could
      // not finish is safe: acks were withheld, and unconfirmed ingests lapse (DESIGN.md).
      await within(released, this.settings.shutdownTimeoutMs)
      this.rooms.clear()
      this.opening.clear()
      // Each socket takes its close handshake; one whose peer does not answer is cut.
      await within(sessionsClosed, this.settings.shutdownTimeoutMs)
      for (const session of this.sessions) session.socket.terminate()
      await within(sessionsClosed, this.settings.shutdownTimeoutMs)
      await new Promise<void>((resolve) => this.wss.close(() => resolve()))
      this.server.closeAllConnections?.()
      await new Promise<void>((resolve) => this.server.close(() => resolve()))
      if (this.ownsStore) await this.store.close()
      this.metrics?.registry.clear()
    })()
    return this.closing
  }
}
