/**
 * Messages between the `peers` suite (the parent) and the processes it forks: one per
 * server (serverProcess.ts) and one per group of clients (clientProcess.ts).
 */

/** The systems compared. */
export type ServerKind = 'remem' | 'hocuspocus' | 'ywebsocket' | 'bare'

export type ServerRequest =
  | { type: 'memory' }
  | { type: 'exit' }
  /** Starts V8's CPU profiler (what `node --cpu-prof` runs), or stops it and writes `file`. */
  | { type: 'profile'; action: 'start' }
  | { type: 'profile'; action: 'stop'; file: string }

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'memory'; rss: number; heapUsed: number; youngGeneration: number }
  | { type: 'profiled' }
  | { type: 'failed'; message: string }

/** Latency figures of one group of readers, in ms. */
export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

/** A job for a client process; each answers with the messages listed beside it. */
export type ClientJob =
  /** `measuring`, `measured`, then `done` (writes counted between the two marks). */
  | {
      type: 'writers'
      system: ServerKind
      url: string
      /** Writer i writes key `k<i>` of `docs[i % docs.length]`. */
      docs: string[]
      writers: number
      /** Un-acknowledged updates allowed per writer. */
      window: number
      warmupMs: number
      durationMs: number
    }
  /** `ready` once every reader is synced; then `finish` → `done`. */
  | { type: 'readers'; system: ServerKind; url: string; doc: string; readers: number }
  /** `ready` once synced; then `go` → `done` after the last write (and its ack). */
  | { type: 'writer'; system: ServerKind; url: string; doc: string; perSecond: number; durationMs: number }
  /** `ready` once every connection is synced; then `finish` → `done`. */
  | { type: 'idle'; system: ServerKind; url: string; docs: string[]; connections: number }

export type ClientCommand = { type: 'go' } | { type: 'finish'; lastSeq: number } | { type: 'exit' }

export interface JobResult {
  /** Writers: updates acknowledged (or seen by the witness) in the measured phase. */
  acked?: number
  /** Writers: from the start of the measured phase to the last ack in it. */
  elapsedMs?: number
  /** Writers: acknowledged updates whose value a fresh client did not find on the server. */
  lost?: number | null
  /** Clients whose document did not reach the final state within the deadline. */
  behind?: number
  /** Fan-out writer: the sequence number of its last write. */
  lastSeq?: number
  /** Readers: latency from the write to the reader seeing it. */
  latency?: LatencySummary
  errors: number
  firstError: string | null
}

export type ClientMessage =
  | { type: 'ready' }
  | { type: 'measuring' }
  | { type: 'measured' }
  | ({ type: 'done' } & JobResult)
  | { type: 'failed'; message: string }
