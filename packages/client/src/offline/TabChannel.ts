/**
 * Carries one memory's changes between the tabs of an origin over a BroadcastChannel,
 * online or offline, without waiting for the relay.
 *
 * Messages:
 *   { kind: 'update', from, update }          a change made in tab `from`
 *   { kind: 'hello', from, stateVector }      a tab opened: others answer with what it lacks
 *   { kind: 'update', from, to, update }      such an answer, for tab `to` only
 *
 * A receiver applies changes as not its own: the tab that made a change keeps it in its
 * queue and sends it to the relay; the others only show it.
 */
export interface TabChannelHandlers {
  /** A change from another tab. */
  onUpdate(update: Uint8Array): void
  /** What a tab whose state vector is `stateVector` lacks, or null for nothing. */
  diffFor(stateVector: Uint8Array): Uint8Array | null
}

type TabMessage =
  | { kind: 'update'; from: string; to?: string; update: Uint8Array }
  | { kind: 'hello'; from: string; stateVector: Uint8Array }

/** The BroadcastChannel name of one memory of one relay. */
export const tabChannelName = (relayUrl: string, memory: string): string =>
  `remem:${relayUrl}:${memory}`

export class TabChannel {
  private readonly channel: BroadcastChannel

  constructor(
    name: string,
    private readonly clientId: string,
    private readonly handlers: TabChannelHandlers,
  ) {
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = (event: MessageEvent<unknown>) => this.receive(event.data)
    // Node keeps a process alive while a channel listens; a client should not.
    ;(this.channel as { unref?: () => void }).unref?.()
  }

  /** Tells the other tabs about a change made here. */
  post(update: Uint8Array): void {
    this.send({ kind: 'update', from: this.clientId, update })
  }

  /** Asks the other tabs for what this one lacks. */
  hello(stateVector: Uint8Array): void {
    this.send({ kind: 'hello', from: this.clientId, stateVector })
  }

  close(): void {
    this.channel.onmessage = null
    this.channel.close()
  }

  private send(message: TabMessage): void {
    try {
      this.channel.postMessage(message)
    } catch {
      // A closed channel: the relay still carries the change.
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== 'object' || data === null) return
    const message = data as Partial<Record<string, unknown>>
    if (message['from'] === this.clientId) return
    if (message['kind'] === 'update' && message['update'] instanceof Uint8Array) {
      if (message['to'] !== undefined && message['to'] !== this.clientId) return
      this.handlers.onUpdate(message['update'])
    } else if (message['kind'] === 'hello' && message['stateVector'] instanceof Uint8Array) {
      const diff = this.handlers.diffFor(message['stateVector'])
      if (diff)
        this.send({
          kind: 'update',
          from: this.clientId,
          to: message['from'] as string,
          update: diff,
        })
    }
  }
}
