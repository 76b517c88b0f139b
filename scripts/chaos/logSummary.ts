/**
 * Counts what the clients were told (`client error: …` lines of the writer logs), grouped by
 * message with numbers and quoted names blanked, so the figures show which refusals and
 * closes a run went through (e.g. clientIdTaken after a relay crash); and counts the epoch
 * switches the relays made or followed.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** How many times a relay moved a memory to a new epoch (`moved to a new epoch` log lines). */
export function epochMoves(logDir: string): number {
  let moves = 0
  for (const file of readdirSync(logDir).filter((name) => /^relay-.*\.log$/.test(name))) {
    moves += readFileSync(join(logDir, file), 'utf8').split('moved to a new epoch').length - 1
  }
  return moves
}

/** The `limit` most frequent client error kinds in `logDir`, as "count × message" strings. */
export function clientErrorKinds(logDir: string, limit = 6): string[] {
  const counts = new Map<string, number>()
  for (const file of readdirSync(logDir).filter((name) => /^w\d+\.log$/.test(name))) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      const at = line.indexOf(' client error: ')
      if (at < 0) continue
      const kind = line
        .slice(at + ' client error: '.length)
        .replace(/"[^"]*"/g, '"…"')
        .replace(/\d+/g, 'N')
        .slice(0, 110)
      counts.set(kind, (counts.get(kind) ?? 0) + 1)
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([kind, count]) => `${count} × ${kind}`)
}
