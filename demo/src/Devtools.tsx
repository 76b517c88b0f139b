import { Suspense, lazy } from 'react'

// Loaded on first open only: the demo's main bundle carries none of the panel. The client
// records its timeline from the start, so nothing before the first open is missed.
const RememDevtools = lazy(() =>
  import('@remem/devtools').then((module) => ({ default: module.RememDevtools })),
)

/** The devtools panel of the provider's client, opened and closed by the header's button. */
export function Devtools({
  open,
  onOpenChange,
}: {
  open: boolean
  onOpenChange: (open: boolean) => void
}) {
  if (!open) return null
  return (
    <Suspense fallback={null}>
      <RememDevtools open={open} onOpenChange={onOpenChange} initialMemory="todos" />
    </Suspense>
  )
}
