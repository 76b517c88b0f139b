import { useSharedMemory } from '@remem/react'
import { useEffect, useState } from 'react'
import { Sparkline } from './Sparkline.tsx'

type Metrics = Record<string, unknown>

const METRICS = [
  { key: 'cpu', label: 'CPU', unit: '%' },
  { key: 'memory', label: 'Memory', unit: '%' },
  { key: 'rps', label: 'Requests', unit: '/s' },
] as const

/** How many points a sparkline shows. */
const HISTORY = 60

/**
 * Memory `dashboard`, written by a producer straight into Redis (`memory:dashboard:cpu` =
 * `{"value": 42.5, …}`): no remem client on that side. Try `redis-cli SET
 * memory:dashboard:cpu '{"value": 99}'` with `REDIS_URL` set.
 */
export function Dashboard() {
  const dashboard = useSharedMemory<Metrics>('dashboard')
  return (
    <section className="card">
      <h2>
        Live dashboard <span className="hint">memory “dashboard”, fed from Redis</span>
      </h2>
      <div className="metrics">
        {METRICS.map((metric) => (
          <MetricCard
            key={metric.key}
            metricKey={metric.key}
            label={metric.label}
            unit={metric.unit}
            value={dashboard[metric.key]}
          />
        ))}
      </div>
      <p className="muted">
        <button
          type="button"
          data-testid="randomize-cpu"
          onClick={() => {
            let next: number
            do next = Math.round(Math.random() * 1000) / 10
            while (next === dashboard.cpu)
            dashboard.cpu = next
          }}
        >
          Set CPU from this tab
        </button>{' '}
        (the producer leaves a value someone else wrote alone for 15 s)
      </p>
    </section>
  )
}

function MetricCard({ metricKey, label, unit, value }: MetricProps) {
  const history = useHistory(value)
  return (
    <div className="metric-card">
      <span className="label">{label}</span>
      <Sparkline values={history} label={`${label} over time`} />
      <span className="value">
        <span data-testid={`metric-${metricKey}`}>{format(value)}</span>
        {typeof value === 'number' && <span className="unit">{unit}</span>}
      </span>
    </div>
  )
}

interface MetricProps {
  metricKey: string
  label: string
  unit: string
  value: unknown
}

/** The value as written: numbers as they are, strings as text, anything else as JSON. */
function format(value: unknown): string {
  if (value === undefined) return '—'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The last {@link HISTORY} numeric values this page has seen. */
function useHistory(value: unknown): number[] {
  const [history, setHistory] = useState<number[]>([])
  useEffect(() => {
    if (typeof value !== 'number') return
    setHistory((previous) => [...previous.slice(-(HISTORY - 1)), value])
  }, [value])
  return history
}
