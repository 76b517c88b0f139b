/** A small seeded PRNG (mulberry32): the same seed gives the same fault schedule and operations. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  /** Integer uniform in [min, max] (both included). */
  int(min: number, max: number): number
  /** One element of `items`, chosen uniformly. */
  pick<T>(items: readonly T[]): T
  /** One key of `weights`, chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K
}

/** A PRNG seeded with `seed`; `stream` derives independent sequences from one seed. */
export function createPrng(seed: number, stream = ''): Prng {
  let state = mix(seed, stream)
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list')
      return items[int(0, items.length - 1)]!
    },
    weighted: (weights) => {
      const entries = Object.entries(weights) as Array<[keyof typeof weights, number]>
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
      let roll = next() * total
      for (const [key, weight] of entries) {
        roll -= weight
        if (roll < 0) return key
      }
      return entries.at(-1)![0]
    },
  }
}

function mix(seed: number, stream: string): number {
  let hash = (seed ^ 0x9e3779b9) | 0
  for (let i = 0; i < stream.length; i++) {
    hash = Math.imul(hash ^ stream.charCodeAt(i), 0x01000193)
  }
  return hash
}
