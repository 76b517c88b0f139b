import { createClient } from '@remem/client'
import { RememProvider } from '@remem/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { relayUrl } from './relayUrl.ts'

const url = relayUrl()
// `?token=…` for a relay that checks tokens (REMEM_SECRET); read again before every connect,
// so a page can swap it (the e2e tests do).
const token = new URLSearchParams(location.search).has('token')
  ? () => new URLSearchParams(location.search).get('token') ?? ''
  : undefined
// One client for the page, shared by every scenario: one socket, one status bar. Quick
// reconnects, since the demo is about going offline and coming back.
const client = createClient({
  url,
  backoff: { minMs: 250, maxMs: 3000 },
  ...(token ? { token } : {}),
})

// For poking around in the console (and for the e2e tests).
Object.assign(window, { remem: { client } })

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')
createRoot(container).render(
  <StrictMode>
    <RememProvider client={client}>
      <App relayUrl={url} />
    </RememProvider>
  </StrictMode>,
)

// The built app caches itself so that it reloads offline (see demo/serviceWorker.js). Not
// under `vite` dev, whose modules change on every edit.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker
    .register(`${import.meta.env.BASE_URL}sw.js`)
    .catch((error: unknown) => console.warn('[demo] no service worker:', error))
}
