/**
 * Telling a lost Redis connection from an answer Redis gave: the first is worth one line
 * naming where Redis is; the second (a refused command) carries its own explanation.
 */

const LOSS_MESSAGES =
  /max retries per request|Connection is closed|Stream isn't writeable|closed before it was ready|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/i

/** Whether `error` says the connection to Redis was lost or never made (not a reply of Redis). */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'ReplyError') return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  const code = (error as NodeJS.ErrnoException).code
  return LOSS_MESSAGES.test(error.message) || (typeof code === 'string' && LOSS_MESSAGES.test(code))
}
