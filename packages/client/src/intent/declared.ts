/**
 * The intent of the commonest transaction, declared by its writer instead of read back from
 * the transaction: one `set` of a primitive at a key of a dict (a dashboard value, a form
 * field). `recordIntent` takes the declaration as the transaction's intent once it has
 * checked that the transaction did nothing else, and that the dict's path from the root goes
 * through dict keys only. Otherwise it reads the transaction as usual (TransactionReading in
 * record.ts).
 *
 * It gives exactly what the reading gives for such a transaction (`declaredIntent.test.ts`
 * checks both on seeded runs): the writer deletes every live entry of the key, so the new
 * entry is the key's only one, hence its winner, and no deletion leaves the key empty. Only
 * the one `set` intent remains. What it saves is the reading's collections and index lookups
 * per write. In Node these also led V8 to pretenure the write path's objects, which kept
 * every transaction alive until a full GC and about doubled the CPU of a set
 * (bench/README.md).
 */
import type * as Y from 'yjs'
import type { PrimitiveEntry } from '../model/layout.ts'

interface DeclaredSet {
  readonly array: Y.Array<unknown>
  readonly raw: PrimitiveEntry
  /** Elements the writer deleted (the key's entries before). */
  readonly deleted: number
}

/** `transaction.meta` key of the declaration; MANY once a second write declares. */
const DECLARED = Symbol('remem.declaredIntent')
const MANY = 'many'

/**
 * Declares that `transaction` appended the primitive entry `raw` (layout.ts) to the dict
 * `array`, after deleting `deleted` entries of its key.
 */
export function declareDictSet(
  transaction: Y.Transaction,
  array: Y.Array<unknown>,
  raw: PrimitiveEntry,
  deleted: number,
): void {
  const meta = transaction.meta
  meta.set(DECLARED, meta.has(DECLARED) ? MANY : { array, raw, deleted })
}

/**
 * The write declared in `transaction` if the transaction is exactly that write and nothing
 * else, or null (read it then). Read in 'beforeObserverCalls', as `recordIntent` is.
 * O(clients).
 */
export function declaredSet(
  transaction: Y.Transaction,
): { array: Y.Array<unknown>; raw: PrimitiveEntry } | null {
  const declared = transaction.meta.get(DECLARED) as DeclaredSet | typeof MANY | undefined
  if (declared === undefined || declared === MANY) return null
  // Only the written dict changed (a type made in this transaction is not listed: it adds
  // clocks); one element added; the writer's deletions and no other (deleting the new entry
  // again would be one more).
  if (transaction.changed.size !== 1 || !transaction.changed.has(declared.array)) return null
  let added = 0
  for (const [client, clock] of transaction.afterState)
    added += clock - (transaction.beforeState.get(client) ?? 0)
  if (added !== 1) return null
  let deleted = 0
  for (const ranges of transaction.deleteSet.clients.values())
    for (const range of ranges) deleted += range.len
  return deleted === declared.deleted ? declared : null
}
