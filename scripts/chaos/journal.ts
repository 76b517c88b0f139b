/**
 * Journals that survive the death of the process writing them: every entry is appended
 * and fsynced before the writer goes on. A SIGKILL can tear only the last line, which the
 * reader skips.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { Json } from '@remem/client/protocol'
import type { Op } from './ops.ts'

/** One line of a client writer's journal. */
export type WriterEntry =
  /** The writer started (or reopened its client) on `relay`. */
  | { t: 'start'; id: string; relay: string; at: number }
  /** Operation `seq` on `mem` is about to be made. */
  | { t: 'M'; seq: number; mem: string; op: Op; at: number }
  /** `whenSynced()` resolved: every operation on `mem` up to `seq` is acknowledged. */
  | { t: 'A'; seq: number; mem: string; at: number }
  /** Something the writer did or saw (offline, online, socket dropped, reopen…). */
  | { t: 'E'; what: string; at: number }
  /** The writer's own copy differs from its model: a bug of the client or of the checker. */
  | { t: 'V'; mem: string; what: string; at: number }

/** One line of the external (plain Redis) writer's journal. */
export type ExternalEntry =
  /** `SET`/`DEL` of `key` (value absent: DEL) is about to be sent. */
  | { t: 'M'; seq: number; key: string; value?: Json; at: number }
  /** Redis answered that command. */
  | { t: 'A'; seq: number; at: number }
  /** The command failed or timed out: it may or may not have been applied. */
  | { t: 'U'; seq: number; why: string; at: number }

/** An append-only, fsynced JSON-lines file. */
export class Journal<Entry> {
  private readonly fd: number

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a')
  }

  /** Appends `entry` and returns once it is on disk. */
  write(entry: Entry): void {
    writeSync(this.fd, JSON.stringify(entry) + '\n')
    fsyncSync(this.fd)
  }

  close(): void {
    closeSync(this.fd)
  }
}

/** Reads a journal; a torn last line (the writer died while writing it) is skipped. */
export function readJournal<Entry>(path: string): Entry[] {
  if (!existsSync(path)) return []
  const entries: Entry[] = []
  const lines = readFileSync(path, 'utf8').split('\n')
  for (const [index, line] of lines.entries()) {
    if (line === '') continue
    try {
      entries.push(JSON.parse(line) as Entry)
    } catch (error) {
      if (index < lines.length - 1 && lines[index + 1] !== '') throw new Error(`${path}:${index + 1}: ${String(error)}`)
    }
  }
  return entries
}
