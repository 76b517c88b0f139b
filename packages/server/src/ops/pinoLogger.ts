/**
 * A relay {@link Logger} on pino: one JSON line per event, on stderr by default, at or above
 * a level. The CLI uses it (`--log-level`, `LOG_LEVEL`).
 */
import { type Logger as Pino, type LevelWithSilent, pino } from 'pino'
import type { Logger } from '../logger.ts'

export interface PinoLoggerOptions {
  /** @default 'info' */
  level?: LevelWithSilent
  /** File descriptor or path to write to. @default 2 (stderr) */
  destination?: number | string
}

/** A Logger writing through pino; `.pino` is the pino instance (for child loggers, flushing). */
export function createPinoLogger(
  options: PinoLoggerOptions = {},
): Logger & { readonly pino: Pino } {
  const logger = pino(
    { name: 'remem-relay', level: options.level ?? 'info' },
    pino.destination({ dest: options.destination ?? 2, sync: true }),
  )
  return {
    pino: logger,
    info: (message, data) => logger.info(data ?? {}, message),
    warn: (message, data) => logger.warn(data ?? {}, message),
    error: (message, data) => logger.error(data ?? {}, message),
  }
}
