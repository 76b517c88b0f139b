/** Where the relay reports what happens. Compatible with `console` and pino-style loggers. */
export interface Logger {
  info(message: string, data?: object): void
  warn(message: string, data?: object): void
  error(message: string, data?: object): void
}

const format = (message: string, data?: object): string =>
  data ? `${message} ${JSON.stringify(data)}` : message

/** Logs one line per event to stderr. */
export const consoleLogger: Logger = {
  info: (message, data) => console.error(`[remem] ${format(message, data)}`),
  warn: (message, data) => console.error(`[remem] warn: ${format(message, data)}`),
  error: (message, data) => console.error(`[remem] error: ${format(message, data)}`),
}

/** Logs nothing. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }
