/**
 * Operation counters of the document model, for tests that assert how much work a call does
 * (time is too noisy to assert). Not part of the public API.
 *
 * @example
 * const before = { ...modelCounters }
 * mem.get('k')
 * modelCounters.decoded - before.decoded // entries decoded by that call
 */
export const modelCounters = {
  /** Raw array elements decoded into dict entries or list items. */
  decoded: 0,
  /** Array elements stepped over by scans and by the indexes' walks. */
  visited: 0,
  /** Snapshot nodes (dicts and lists) built afresh instead of reused. */
  snapshotNodes: 0,
  /** Transactions an index could not follow (it was dropped and rebuilt); 0 unless there is a bug. */
  indexFailures: 0,
}

/** The counters' current values, to subtract from later ones. */
export function countersNow(): typeof modelCounters {
  return { ...modelCounters }
}
