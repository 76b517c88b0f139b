import { createClient } from '@remem/client'
import { StrictMode, useSyncExternalStore } from 'react'
import { createRoot } from 'react-dom/client'

type Memory = ReturnType<ReturnType<typeof createClient>['memory']>

// `?relay=ws://…` wins, so one dev server can be pointed at any relay (the e2e tests do).
const relayUrl =
  new URLSearchParams(location.search).get('relay') ??
  import.meta.env.VITE_REMEM_URL ??
  `ws://${location.hostname}:8787`

const client = createClient({ url: relayUrl })
const dashboard = client.memory('dashboard')

// For poking around in the console and for the e2e tests.
Object.assign(window, { remem: { client, dashboard } })

/** The memory as a frozen plain object; re-renders on every change, local or remote. */
function useSnapshot(mem: Memory) {
  return useSyncExternalStore(mem.subscribe, mem.getSnapshot)
}

/** `{ connection, pending }`; re-renders when either changes. */
function useStatus(mem: Memory) {
  return useSyncExternalStore(mem.subscribeStatus, () => mem.status)
}

function StatusBar({ mem }: { mem: Memory }) {
  const status = useStatus(mem)
  return (
    <header className="status-bar">
      <span className="title">remem demo</span>
      <span data-testid="connection-status" className={`connection ${status.connection}`}>
        {status.connection}
      </span>
      <span>
        <span data-testid="pending-count">{status.pending}</span> pending
      </span>
      <span title="relay">{relayUrl}</span>
    </header>
  )
}

function Dashboard({ mem }: { mem: Memory }) {
  const snapshot = useSnapshot(mem)
  const cpu = snapshot['cpu']
  return (
    <main>
      <section className="card">
        <h2>CPU</h2>
        <div className="metric" data-testid="metric-cpu">
          {cpu === undefined ? '—' : typeof cpu === 'string' ? cpu : JSON.stringify(cpu)}
        </div>
        <button
          type="button"
          data-testid="randomize-cpu"
          onClick={() => mem.set('cpu', Math.round(Math.random() * 100) / 100)}
        >
          Random value
        </button>
      </section>
    </main>
  )
}

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')
createRoot(container).render(
  <StrictMode>
    <StatusBar mem={dashboard} />
    <Dashboard mem={dashboard} />
  </StrictMode>,
)
