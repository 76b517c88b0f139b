import { useSyncStatus } from '@remem/react'

/** The client's connection and its unacknowledged changes, over every memory. */
export function StatusBar({
  relayUrl,
  devtools,
  onDevtools,
}: {
  relayUrl: string
  /** Whether the devtools panel is open; the header's button toggles it. */
  devtools: boolean
  onDevtools: (open: boolean) => void
}) {
  const { connection, pending } = useSyncStatus()
  return (
    <header className="status-bar">
      <span className="title">remem demo</span>
      <span data-testid="connection-status" className={`connection ${connection}`}>
        {connection}
      </span>
      <span>
        <span data-testid="pending-count">{pending}</span> pending
      </span>
      <span className="relay" title="relay">
        {relayUrl}
      </span>
      <button
        type="button"
        data-testid="devtools-button"
        aria-pressed={devtools}
        onClick={() => onDevtools(!devtools)}
      >
        devtools
      </button>
    </header>
  )
}
