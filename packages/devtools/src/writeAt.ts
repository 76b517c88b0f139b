/**
 * Writes one leaf of a memory through its views, as the app's own code would (`set` on
 * the dict or list that holds it): a normal, synced, acknowledged write.
 */
import { type Memory, SyncedDict, SyncedList } from '@remem/client'

/** A path from the memory's root: dict keys and list indexes. */
export type Path = ReadonlyArray<string | number>

export function writeAt(memory: Memory, path: Path, value: unknown): void {
  if (path.length === 0)
    throw new Error('the root of a memory cannot be replaced; edit one of its keys')
  let parent: SyncedDict | SyncedList = memory
  for (const step of path.slice(0, -1)) {
    const next: unknown =
      parent instanceof SyncedList ? parent.get(Number(step)) : parent.get(String(step))
    if (!(next instanceof SyncedDict) && !(next instanceof SyncedList)) {
      throw new Error(`${describe(path)} no longer exists: the value changed meanwhile`)
    }
    parent = next
  }
  const last = path[path.length - 1]!
  if (parent instanceof SyncedList) parent.set(Number(last), value)
  else parent.set(String(last), value)
}

/** `todos.items[2].text` */
export function describe(path: Path): string {
  return path
    .map((step, index) =>
      typeof step === 'number' ? `[${step}]` : index === 0 ? step : `.${step}`,
    )
    .join('')
}

/** What a typed text means: JSON where it parses (`42`, `true`, `"a"`, `{…}`), else the text itself. */
export function parseInput(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
