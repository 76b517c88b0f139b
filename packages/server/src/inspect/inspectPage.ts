/**
 * The inspector's page: static HTML with an inline script that polls `/inspect/data` every
 * second and renders it. The token is kept in the URL's fragment (`/inspect#token=…`),
 * which browsers never send to servers or write to their logs, and travels in an
 * Authorization header.
 */
export function inspectPage(open: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>remem relay inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; background: #0d1117; color: #e6e6e6; }
header { padding: 8px 16px; background: #16181d; border-bottom: 1px solid #333; display: flex; gap: 16px; align-items: center; }
header h1 { font-size: 15px; margin: 0; color: #ffb347; }
main { padding: 8px 16px; }
section.memory { border: 1px solid #333; border-radius: 6px; margin: 10px 0; padding: 8px 12px; }
h2 { font-size: 14px; margin: 0 0 6px; } h3 { font-size: 11px; text-transform: uppercase; color: #8b949e; margin: 8px 0 2px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 1px 12px 1px 0; vertical-align: top; }
th { color: #8b949e; font-weight: normal; }
.muted { color: #8b949e; } .error { color: #f85149; } .badge { border: 1px solid #555; border-radius: 8px; padding: 0 6px; }
input, button { font: inherit; background: #16181d; color: inherit; border: 1px solid #555; border-radius: 4px; padding: 2px 6px; }
</style>
</head>
<body>
<header><h1>remem relay inspector</h1><span id="summary" class="muted">loading…</span></header>
<main>
<form id="login" hidden>
  <p>This relay checks tokens. Paste a token of this relay (<code>remem-relay token --memory "*" --access read</code>); it stays in this page's address after <code>#</code>, which is never sent to a server.</p>
  <label>token <input id="token" size="60" autocomplete="off"></label> <button>inspect</button>
</form>
<p id="status" role="status"></p>
<div id="memories"></div>
<p id="more" class="muted"></p>
<h3>Refusals (connections, tokens)</h3><div id="refusals"></div>
<h3>Live tail</h3><div id="tail"></div>
</main>
<script>
const OPEN = ${open ? 'true' : 'false'}
const $ = (id) => document.getElementById(id)
function h(tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value)
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child))
  return node
}
const token = () => new URLSearchParams(location.hash.slice(1)).get('token') || ''
const headers = () => (token() ? { authorization: 'Bearer ' + token() } : {})
const bytes = (n) => (n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB')
const time = (at) => new Date(at).toLocaleTimeString(undefined, { hour12: false }) + '.' + String(at % 1000).padStart(3, '0')
function table(head, rows) {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'none')
  return h('table', {}, h('thead', {}, h('tr', {}, head.map((cell) => h('th', { scope: 'col' }, cell)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))))
}
$('login').addEventListener('submit', (event) => {
  event.preventDefault()
  location.hash = 'token=' + encodeURIComponent($('token').value.trim())
  poll()
})
async function write(memory, key, body) {
  const response = await fetch('/inspect/write', { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify({ memory, key, ...body }) })
  $('status').textContent = response.ok ? 'written: ' + memory + '.' + key : 'refused: ' + (await response.json()).error
}
function writeForm(memory) {
  const key = h('input', { placeholder: 'key', 'aria-label': 'key of ' + memory.name })
  const value = h('input', { placeholder: 'JSON value', size: 30, 'aria-label': 'new value' })
  const set = h('button', { type: 'button' }, 'set')
  const del = h('button', { type: 'button' }, 'delete')
  set.onclick = () => { let parsed; try { parsed = JSON.parse(value.value) } catch { parsed = value.value } write(memory.name, key.value, { value: parsed }) }
  del.onclick = () => write(memory.name, key.value, { delete: true })
  return h('p', {}, 'write (your token may): ', key, ' ', value, ' ', set, ' ', del)
}
function render(report) {
  $('summary').textContent = 'relay ' + report.relay.id.slice(0, 8) + ' · store ' + report.relay.store + ' · prefix ' + report.relay.prefix + ' · ' + report.relay.connections + ' connections · ' + report.relay.loadedMemories + ' loaded'
  const focused = document.activeElement && document.activeElement.closest('.memory') ? document.activeElement.closest('.memory').dataset.memory : null
  const sections = report.memories.map((memory) => {
    const section = h('section', { class: 'memory', 'data-memory': memory.name, 'aria-label': 'memory ' + memory.name },
      h('h2', {}, memory.name, ' ', h('span', { class: 'badge' }, memory.loaded ? 'loaded here' : 'in store only'), ' ', h('span', { class: 'badge' }, memory.access)),
      table(['document (encoded)', 'as JSON', 'keys', 'snapshot', 'compacted up to', 'log entries', 'log bytes', 'updates/s', 'acks/s', 'unpersisted'],
        [[bytes(memory.document.encodedBytes), bytes(memory.document.jsonBytes), memory.document.keys, bytes(memory.stored.snapshotBytes), memory.stored.compactedUpTo ?? '—', memory.stored.logLength, bytes(memory.stored.logBytes), memory.updatesPerSecond.toFixed(2), memory.acksPerSecond.toFixed(2), memory.pendingWrites]]),
      h('h3', {}, 'connections and presence'),
      table(['connection', 'presence'], memory.sessions.map((session) => ['#' + session.id, session.presence.map((p) => p.clientId + ' ' + JSON.stringify(p.state)).join('; ') || '—'])),
      h('h3', {}, 'projection keys'),
      table(['key', 'TTL', 'bytes'], memory.projection.map((key) => [key.key, key.ttlMs === null ? 'none' : (key.ttlMs / 1000).toFixed(1) + ' s', bytes(key.bytes)])),
      h('h3', {}, 'recent refusals'),
      table(['time', 'reason'], memory.refusals.slice().reverse().map((refusal) => [time(refusal.at), refusal.reason])),
      memory.access === 'write' ? writeForm(memory) : h('p', { class: 'muted' }, 'read-only: your token has read access'))
    return section
  })
  if (focused === null) $('memories').replaceChildren(...sections)
  $('more').textContent = report.more.length === 0 ? '' : report.more.length + ' more (open /inspect?memory=<name>#token=… for one): ' + report.more.join(', ')
  $('refusals').replaceChildren(table(['time', 'reason'], report.refusals.slice().reverse().map((refusal) => [time(refusal.at), refusal.reason])))
  $('tail').replaceChildren(table(['time', 'memory', 'from', 'bytes'], report.tail.slice().reverse().slice(0, 50).map((entry) => [time(entry.at), entry.memory, entry.from, bytes(entry.bytes)])))
}
let timer = null
async function poll() {
  clearTimeout(timer)
  if (!OPEN && !token()) { $('login').hidden = false; $('status').textContent = ''; return }
  try {
    const only = new URLSearchParams(location.search).get('memory')
    const response = await fetch('/inspect/data' + (only ? '?memory=' + encodeURIComponent(only) : ''), { headers: headers() })
    const body = await response.json()
    if (response.status === 401) { $('login').hidden = false; $('status').textContent = 'refused (401): ' + body.error; return }
    if (!response.ok) throw new Error(body.error)
    $('login').hidden = true
    render(body)
    document.body.dataset.loaded = 'true'
  } catch (error) {
    $('status').textContent = 'cannot reach the relay: ' + error.message
  }
  timer = setTimeout(poll, 1000)
}
poll()
</script>
</body>
</html>
`
}
