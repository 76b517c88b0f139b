/** A small line chart of `values`, oldest first, scaled to their range. */
export function Sparkline({ values, label }: { values: readonly number[]; label: string }) {
  const width = 100
  const height = 30
  if (values.length < 2) {
    return (
      <svg className="sparkline" viewBox={`0 0 ${width} ${height}`} aria-label={label} role="img" />
    )
  }
  const min = Math.min(...values)
  const max = Math.max(...values)
  const span = max - min || 1
  const step = width / (values.length - 1)
  const points = values
    .map((value, index) => {
      const x = index * step
      const y = height - 1 - ((value - min) / span) * (height - 2)
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
  return (
    <svg
      className="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      aria-label={label}
      role="img"
    >
      <polygon className="area" points={`0,${height} ${points} ${width},${height}`} />
      <polyline points={points} />
    </svg>
  )
}
