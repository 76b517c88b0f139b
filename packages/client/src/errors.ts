/** Stable codes carried by every {@link RememError}. */
export type RememErrorCode =
  | 'validation'
  | 'auth'
  | 'connection'
  | 'protocol'
  | 'closed'
  | 'refused'
  | 'storage'
  | 'epochConflict'

/** Base class of every error remem throws; check with `instanceof` and read `code`. */
export class RememError extends Error {
  override readonly name: string = 'RememError'
  constructor(
    readonly code: RememErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A value is not JSON, or a memory name is not allowed. `path` names the offending place. */
export class ValidationError extends RememError {
  override readonly name = 'ValidationError'
  constructor(
    message: string,
    readonly path: string = '',
  ) {
    super('validation', message)
  }
}

/** The relay refused the token or the access needed for an action. */
export class AuthError extends RememError {
  override readonly name = 'AuthError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('auth', message, options)
  }
}

/** The connection to the relay failed or was closed by the relay. */
export class ConnectionError extends RememError {
  override readonly name = 'ConnectionError'
  constructor(
    message: string,
    readonly closeCode?: number,
    options?: { cause?: unknown },
  ) {
    super('connection', message, options)
  }
}

/** The relay refused an update or a frame; `reason` is the protocol's error code name. */
export class RefusedError extends RememError {
  override readonly name = 'RefusedError'
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super('refused', message)
  }
}

/**
 * A local change made before its memory moved to a new epoch could not be carried over
 * (docs/DESIGN.md, "Epochs"): what it changed is gone (a list item it edited or was placed
 * next to was deleted meanwhile, a dict became a value). `intent` says what it was.
 */
export class EpochConflictError extends RememError {
  override readonly name = 'EpochConflictError'
  constructor(
    message: string,
    readonly intent: unknown,
  ) {
    super('epochConflict', message)
  }
}

/** The client or memory was closed and cannot be used any more. */
export class ClosedError extends RememError {
  override readonly name = 'ClosedError'
  constructor(message: string) {
    super('closed', message)
  }
}

/** Local storage (IndexedDB) failed; the client keeps changes in memory for the session. */
export class StorageError extends RememError {
  override readonly name = 'StorageError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage', message, options)
  }
}
