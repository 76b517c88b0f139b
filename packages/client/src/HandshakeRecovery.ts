/**
 * How one memory's sync recovers when the relay refuses what it sent: the handshake runs
 * again with jittered growing backoff when the relay could not load the memory
 * (`loadFailed`) or refused new clocks of another live client's id (`clientIdTaken`); a
 * frame of several changes over the relay's `maxUpdateBytes` makes the handshake run again
 * in smaller parts (handshakeParts.ts); a change refused as `memoryTooLarge` stays pending,
 * is offered again with a slower backoff, and is reported once until the relay acknowledges
 * again. Other refusals are reported.
 */
import { type BackoffOptions, backoffDelay } from './connection/backoff.ts'
import { AuthError, RefusedError } from './errors.ts'
import { ErrorCode, errorCodeName } from './protocol/messages.ts'

/** Delays before a memory's handshake is retried (after `loadFailed` or `clientIdTaken`). */
const HANDSHAKE_RETRY: BackoffOptions = { minMs: 250, maxMs: 10_000 }
/** Delays before a change refused as `memoryTooLarge` is offered again. */
const TOO_LARGE_RETRY: BackoffOptions = { minMs: 1_000, maxMs: 60_000 }
/**
 * A handshake diff larger than this travels in parts (see handshakeParts.ts): half the
 * relay's default `maxUpdateBytes`, halved again whenever the relay refuses a frame of
 * several changes as `updateTooLarge` (its limit is lower), down to `MIN_PART_BYTES`.
 */
const PART_BYTES = 512 * 1024
const MIN_PART_BYTES = 4 * 1024

/** What the recovery needs of its memory's sync. */
export interface RecoveryHost {
  readonly name: string
  /** Whether a handshake may run now (connected, not disposed). */
  canHandshake(): boolean
  /** Sends SYNC step 1 again. */
  handshake(): void
  report(error: Error): void
}

export class HandshakeRecovery {
  private timer: ReturnType<typeof setTimeout> | null = null
  /** Handshakes retried since the relay last acknowledged or synced: the backoff step. */
  private retries = 0
  /** The largest handshake frame sent as one (see PART_BYTES). */
  private maxPartBytes = PART_BYTES
  /** Frames of this handshake that carried several changes (parts of a diff): seq → bytes, until acknowledged. */
  private readonly multiChangeFrames = new Map<number, number>()
  /** A part of this handshake was too large and it runs again in smaller ones. */
  private resplitting = false
  /** Whether `memoryTooLarge` was reported since the relay last acknowledged a change. */
  private tooLargeReported = false

  constructor(private readonly host: RecoveryHost) {}

  /** The largest frame of several changes to send (a handshake diff in parts). */
  get partBytes(): number {
    return this.maxPartBytes
  }

  /** A frame tagged `seq` carried several changes, `bytes` in all. */
  sentSeveral(seq: number, bytes: number): void {
    this.multiChangeFrames.set(seq, bytes)
  }

  /** A handshake starts: what the last one sent no longer counts, and no retry is due. */
  handshakeStarted(): void {
    this.cancel()
    this.multiChangeFrames.clear()
    this.resplitting = false
  }

  /** The relay had nothing to ask for: the backoff starts over. */
  synced(): void {
    this.retries = 0
  }

  /** The relay acknowledged every change up to `seq`. */
  acknowledged(seq: number): void {
    this.retries = 0
    this.tooLargeReported = false
    for (const frameSeq of this.multiChangeFrames.keys()) if (frameSeq <= seq) this.multiChangeFrames.delete(frameSeq)
  }

  /** The relay refused a request about the memory (an ERROR frame): retries, or reports it. */
  refused(code: number, text: string): void {
    if (code === ErrorCode.clientIdTaken) {
      // The update carries new clocks of a client id another connection writes as: a change
      // another tab made and posted here before sending it itself. Once that tab's change
      // is in, a new handshake sends only what the relay still lacks. Not an error.
      this.retryLater()
      return
    }
    if (code === ErrorCode.updateTooLarge && this.sendSmallerParts(text)) return
    // Later parts build on the refused one; the smaller parts resend them all.
    if (code === ErrorCode.missingDependencies && this.resplitting) return
    if (code === ErrorCode.memoryTooLarge) return this.retryTooLarge(text)
    // The relay could not load the memory (its store is down): ask again until it can.
    if (code === ErrorCode.loadFailed) this.retryLater()
    const message = `relay refused a request for memory "${this.host.name}": ${text}`
    this.host.report(code === ErrorCode.forbidden ? new AuthError(message) : new RefusedError(errorCodeName(code), message))
  }

  /** No retry is due any more (the connection closed, or the memory is disposed). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /**
   * A frame carrying several changes was over the relay's `maxUpdateBytes` (lower than
   * assumed): the handshake runs again with parts of half its size. Returns false when
   * smaller parts cannot help (a single change too large), which is then reported.
   */
  private sendSmallerParts(text: string): boolean {
    const bytes = this.multiChangeFrames.get(Number(/\(update seq (\d+)\)$/.exec(text)?.[1]))
    if (bytes === undefined || this.maxPartBytes <= MIN_PART_BYTES) return false
    // Later parts of the same handshake are refused too, or not acknowledged: one retry.
    if (this.resplitting) return true
    this.resplitting = true
    this.maxPartBytes = Math.max(MIN_PART_BYTES, Math.floor(Math.min(this.maxPartBytes, bytes) / 2))
    this.retryLater()
    return true
  }

  /**
   * The memory is at the relay's `maxMemoryBytes`: the refused change (and every later one,
   * whose ACKs the refusal holds back) stays pending and the handshake offers it again with
   * growing backoff, so it goes through once content is deleted or the limit raised. Reported
   * once until the relay acknowledges again.
   */
  private retryTooLarge(text: string): void {
    this.retryLater(TOO_LARGE_RETRY)
    if (this.tooLargeReported) return
    this.tooLargeReported = true
    this.host.report(
      new RefusedError(
        'memoryTooLarge',
        `relay refused a change to memory "${this.host.name}": ${text}. The memory is at the relay's ` +
          'maxMemoryBytes: delete content from it (deletions always pass) or raise the limit ' +
          '(createRelay maxMemoryBytes, --max-memory-bytes). The change stays pending and is retried.',
      ),
    )
  }

  /** Sends SYNC step 1 again after a jittered, growing delay, unless one is already due. */
  private retryLater(delays: BackoffOptions = HANDSHAKE_RETRY): void {
    if (this.timer || !this.host.canHandshake()) return
    this.timer = setTimeout(
      () => {
        this.timer = null
        if (this.host.canHandshake()) this.host.handshake()
      },
      backoffDelay(this.retries++, delays),
    )
    ;(this.timer as { unref?: () => void }).unref?.()
  }
}
