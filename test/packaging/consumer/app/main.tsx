// A small React app built with Vite against the installed @remem/react (packed-tarball test):
// it shows the shared `greeting` of the `packaging` memory and writes `reply` on a click.
// The relay's URL comes from the page's `?relay=` parameter.
import { RememProvider, useSharedMemory, useSyncStatus } from '@remem/react'
import { createRoot } from 'react-dom/client'

interface Shared {
  greeting?: string
  reply?: string
}

function Greeting() {
  const shared = useSharedMemory<Shared>('packaging')
  const { connection } = useSyncStatus('packaging')
  return (
    <main>
      <p id="greeting">{shared.greeting ?? 'waiting'}</p>
      <p id="connection">{connection}</p>
      <button onClick={() => (shared.reply = `seen: ${shared.greeting ?? ''}`)}>Reply</button>
    </main>
  )
}

const relay = new URLSearchParams(location.search).get('relay') ?? 'ws://127.0.0.1:8787'
createRoot(document.getElementById('root')!).render(
  <RememProvider url={relay} storage="memory">
    <Greeting />
  </RememProvider>,
)
