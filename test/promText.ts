/** Parses the Prometheus text format (what `/metrics` serves) strictly enough for tests. */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Every sample; throws on a line that is neither a comment nor a sample. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a Prometheus sample: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!
    const raw = match[3]!
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw)
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`not a number in: ${line}`)
    samples.push({ name: match[1]!, labels, value })
  }
  return samples
}

/** The value of the sample `name` whose labels include `labels`, or 0 when there is none. */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )
  return found?.value ?? 0
}

/** A relay's metric value right now (from its registry, as `/metrics` would serve it). */
export async function metric(
  relay: { metrics: { text(): Promise<string> } | null },
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  if (!relay.metrics) throw new Error('this relay has metrics turned off')
  return sampleValue(parsePrometheus(await relay.metrics.text()), name, labels)
}
