/** Who this tab is in presence: a name and a colour, kept for the tab's session. */
export interface Identity {
  [key: string]: string
  name: string
  color: string
}

const NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Ken',
  'Radia',
  'Linus',
]
const COLORS = [
  '#0969da',
  '#8250df',
  '#bf3989',
  '#cf222e',
  '#bc4c00',
  '#1a7f37',
  '#116329',
  '#0550ae',
]

export function identity(): Identity {
  try {
    const stored = sessionStorage.getItem('remem-demo-identity')
    if (stored) return JSON.parse(stored) as Identity
  } catch {
    // No storage (private mode): a new identity per load is fine.
  }
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!
  const made: Identity = {
    name: `${pick(NAMES)} ${Math.floor(Math.random() * 90) + 10}`,
    color: pick(COLORS),
  }
  try {
    sessionStorage.setItem('remem-demo-identity', JSON.stringify(made))
  } catch {
    // As above.
  }
  return made
}
