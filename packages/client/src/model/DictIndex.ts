/**
 * The index of one dict's array (see `layout.ts`): for each key, its live entries and the
 * winning one, and the keys in array order of their winners. Built on first use by one
 * scan, then kept up to date entry by entry — by the writers in `write.ts` as they write,
 * and by `indexes.ts` for every transaction (remote updates included) — so a read decodes
 * nothing and a write decodes only what it writes.
 *
 * It answers exactly what `scanDict` answers: per key, the latest write time wins, ties go
 * to the later entry in the array; keys come in the array order of their winners.
 * Entries are named by element id, so every change is idempotent: adding a known entry or
 * removing an unknown one does nothing.
 */
import type * as Y from 'yjs'
import { modelCounters } from './counters.ts'
import { comesBefore, findElement, isLive, lastItem, rawAt } from './elements.ts'
import { decodeDictEntry } from './layout.ts'

/** A decoded dict entry, as `decodeDictEntry` returns it. */
export type IndexedEntry = NonNullable<ReturnType<typeof decodeDictEntry>>

/** One live entry of the dict: its element id and what it holds. */
export interface DictRecord {
  readonly client: number
  readonly clock: number
  readonly entry: IndexedEntry
  readonly state: KeyState
}

/** A key's entries; listed (in the key order) while it has a winner. */
interface KeyState {
  readonly key: string
  readonly records: DictRecord[]
  winner: DictRecord | null
  listed: boolean
  prev: KeyState | null
  next: KeyState | null
}

/** What `losers()` returns when there are none (never changed). */
const NONE: readonly DictRecord[] = Object.freeze([])

/** See the file comment. Get it from `dictIndex(array)` (indexes.ts), which keeps it current. */
export class DictIndex {
  readonly array: Y.Array<unknown>
  #built = false
  /** The live entries by element id: client, then clock (numbers: no key string per lookup). */
  readonly #byId = new Map<number, Map<number, DictRecord>>()
  #entryCount = 0
  readonly #keys = new Map<string, KeyState>()
  #head: KeyState | null = null
  #tail: KeyState | null = null
  #size = 0
  /** Keys with more than one live entry (a concurrent write left losers to delete). */
  readonly #contested = new Set<KeyState>()
  /** The id of the last element seen at the end of the array: where appends start looking. */
  #end: { client: number; clock: number } | null = null

  constructor(array: Y.Array<unknown>) {
    this.array = array
  }

  /** The winning entry of `key`. */
  get(key: string): IndexedEntry | undefined {
    this.#ensure()
    return this.#keys.get(key)?.winner?.entry
  }

  /** The number of keys. */
  get size(): number {
    this.#ensure()
    return this.#size
  }

  /** The number of live entries, winners and losers. */
  get entryCount(): number {
    return this.#entryCount
  }

  /** The winning entries, in array order. */
  winners(): IndexedEntry[] {
    this.#ensure()
    const out = new Array<IndexedEntry>(this.#size)
    let i = 0
    for (let state = this.#head; state !== null; state = state.next) out[i++] = state.winner!.entry
    return out
  }

  /** Every live entry of `key` (a copy), losers first, the winner last. */
  records(key: string): DictRecord[] {
    this.#ensure()
    const state = this.#keys.get(key)
    if (!state) return []
    if (state.records.length === 1) return [state.winner!]
    return [...state.records.filter((record) => record !== state.winner), state.winner!]
  }

  /** The entries that lost a concurrent write of their key. */
  losers(): readonly DictRecord[] {
    this.#ensure()
    if (this.#contested.size === 0) return NONE
    const out: DictRecord[] = []
    for (const state of this.#contested) {
      for (const record of state.records) if (record !== state.winner) out.push(record)
    }
    return out
  }

  /** The last item of the array, found from the last known end. */
  lastItem(): Y.Item | null {
    return lastItem(this.array, this.#end)
  }

  /** Forgets everything: the next read scans the array again. */
  reset(): void {
    this.#built = false
    this.#byId.clear()
    this.#entryCount = 0
    this.#keys.clear()
    this.#contested.clear()
    this.#head = this.#tail = null
    this.#size = 0
  }

  /** Takes in the elements of `item` from offset `from` on (new ones; known ones are skipped). */
  addItem(item: Y.Item, from = 0): void {
    if (!this.#built) return
    // Right to left: each element then finds its right neighbour's key already placed.
    for (let offset = item.length - 1; offset >= from; offset--) this.#add(item, offset)
    if (item.right === null) this.#end = { client: item.id.client, clock: item.id.clock + item.length - 1 }
  }

  /** Forgets the elements `from` to `to - 1` of client `client`, if they are entries. */
  removeRange(client: number, from: number, to: number): void {
    if (!this.#built) return
    for (let clock = from; clock < to; clock++) this.#remove(client, clock)
  }

  /** Decodes the elements of `item` again (a peer changed a nested entry's wrapper). */
  refresh(item: Y.Item): void {
    if (!this.#built) return
    this.removeRange(item.id.client, item.id.clock, item.id.clock + item.length)
    if (isLive(item)) this.addItem(item)
  }

  #ensure(): void {
    if (!this.#built) this.#build()
  }

  #build(): void {
    this.reset()
    this.#built = true
    let last: Y.Item | null = null
    for (let item = this.array._start; item !== null; item = item.right) {
      last = item
      if (!isLive(item)) continue
      for (let offset = 0; offset < item.length; offset++) {
        modelCounters.visited++
        const entry = decodeDictEntry(rawAt(item, offset))
        if (!entry) continue
        const record = this.#record(item.id.client, item.id.clock + offset, entry)
        const state = record.state
        // In array order, as scanDict: a later entry wins unless it is strictly older.
        if (state.winner === null || !(state.winner.entry.writtenAt > entry.writtenAt)) {
          state.winner = record
          if (state.listed) this.#unlink(state)
          this.#insertBefore(state, null)
        }
      }
    }
    if (last) this.#end = { client: last.id.client, clock: last.id.clock + last.length - 1 }
  }

  #record(client: number, clock: number, entry: IndexedEntry): DictRecord {
    let state = this.#keys.get(entry.key)
    if (!state) {
      state = { key: entry.key, records: [], winner: null, listed: false, prev: null, next: null }
      this.#keys.set(entry.key, state)
    }
    const record: DictRecord = { client, clock, entry, state }
    state.records.push(record)
    if (state.records.length > 1) this.#contested.add(state)
    let clocks = this.#byId.get(client)
    if (!clocks) this.#byId.set(client, (clocks = new Map()))
    clocks.set(clock, record)
    this.#entryCount++
    return record
  }

  #add(item: Y.Item, offset: number): void {
    const client = item.id.client
    const clock = item.id.clock + offset
    if (this.#find(client, clock)) return
    const entry = decodeDictEntry(rawAt(item, offset))
    if (!entry) return
    const record = this.#record(client, clock, entry)
    const state = record.state
    if (state.winner === null || this.#beats(record, state.winner)) {
      state.winner = record
      if (state.listed) this.#unlink(state)
      this.#link(state, item, offset)
    }
  }

  #remove(client: number, clock: number): void {
    const clocks = this.#byId.get(client)
    const record = clocks?.get(clock)
    if (!record) return
    clocks!.delete(clock)
    this.#entryCount--
    const state = record.state
    state.records.splice(state.records.indexOf(record), 1)
    if (state.records.length < 2) this.#contested.delete(state)
    if (state.winner !== record) return
    this.#unlink(state)
    if (state.records.length === 0) {
      state.winner = null
      this.#keys.delete(state.key)
      return
    }
    let best = state.records[0]!
    for (const other of state.records) if (other !== best && this.#beats(other, best)) best = other
    state.winner = best
    const found = findElement(this.array, best.client, best.clock)
    if (found) this.#link(state, found.item, found.offset)
    else this.reset() // cannot happen while the index is right; if it does, start again
  }

  #find(client: number, clock: number): DictRecord | undefined {
    return this.#byId.get(client)?.get(clock)
  }

  /** Whether `a` wins over `b`: a later write time, or the same time and later in the array. */
  #beats(a: DictRecord, b: DictRecord): boolean {
    if (a.entry.writtenAt !== b.entry.writtenAt) return a.entry.writtenAt > b.entry.writtenAt
    return comesBefore(this.array, b, a)
  }

  /** Lists `state` before the first listed key whose winner lies right of element (item, offset). */
  #link(state: KeyState, item: Y.Item, offset: number): void {
    let from = offset + 1
    for (let current: Y.Item | null = item; current !== null; current = current.right, from = 0) {
      if (!isLive(current)) continue
      for (let o = from; o < current.length; o++) {
        modelCounters.visited++
        const record = this.#find(current.id.client, current.id.clock + o)
        if (record && record.state.listed && record.state.winner === record) {
          this.#insertBefore(state, record.state)
          return
        }
      }
    }
    this.#insertBefore(state, null)
  }

  /** Lists `state` before `next` (null: at the end). */
  #insertBefore(state: KeyState, next: KeyState | null): void {
    const prev = next === null ? this.#tail : next.prev
    state.prev = prev
    state.next = next
    if (prev) prev.next = state
    else this.#head = state
    if (next) next.prev = state
    else this.#tail = state
    state.listed = true
    this.#size++
  }

  #unlink(state: KeyState): void {
    if (!state.listed) return
    if (state.prev) state.prev.next = state.next
    else this.#head = state.next
    if (state.next) state.next.prev = state.prev
    else this.#tail = state.prev
    state.prev = state.next = null
    state.listed = false
    this.#size--
  }
}
