/**
 * The panel's stylesheet. It lives inside the panel's shadow root: nothing of it reaches
 * the page, and the page's styles do not reach the panel.
 */
export const styles = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #e6e6e6; }
button, input { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid #ffb347; outline-offset: 1px; }
.toggle { position: fixed; z-index: 2147483646; bottom: 12px; right: 12px; padding: 6px 10px;
  border-radius: 16px; border: 1px solid #555; background: #1d1f24; cursor: pointer;
  box-shadow: 0 2px 8px rgba(0,0,0,.35); }
.toggle .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: #888; }
.dot.online { background: #3fb950; } .dot.connecting { background: #d29922; } .dot.offline { background: #f85149; }
.panel { position: fixed; z-index: 2147483647; left: 0; right: 0; bottom: 0; display: flex; flex-direction: column;
  background: #16181d; border-top: 1px solid #444; box-shadow: 0 -4px 16px rgba(0,0,0,.4); }
.resize { height: 6px; cursor: ns-resize; background: #2a2d34; flex: none; border: 0; padding: 0; width: 100%; }
.bar { display: flex; align-items: center; gap: 12px; padding: 4px 10px; border-bottom: 1px solid #333; flex: none; }
.bar .title { font-weight: bold; color: #ffb347; }
.bar .spacer { flex: 1; }
.switch { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; background: none; border: 1px solid #555;
  border-radius: 12px; padding: 2px 8px; }
.switch[aria-checked="true"] { background: #5a1d1d; border-color: #f85149; }
.close { background: none; border: 1px solid #555; border-radius: 4px; cursor: pointer; padding: 2px 8px; }
.body { display: flex; flex: 1; min-height: 0; }
.memories { flex: none; width: 150px; border-right: 1px solid #333; overflow: auto; padding: 4px 0; margin: 0; list-style: none; }
.memories button { display: block; width: 100%; text-align: left; background: none; border: 0; padding: 4px 10px; cursor: pointer; }
.memories button[aria-selected="true"] { background: #2a2d34; color: #ffb347; }
.main { flex: 1; display: grid; grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr) minmax(0, 1fr); gap: 0; min-width: 0; overflow: hidden; }
.col { overflow: auto; padding: 6px 10px; min-height: 0; }
.col + .col { border-left: 1px solid #333; }
h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: #8b949e; margin: 10px 0 4px; }
h3:first-child { margin-top: 0; }
dl.status { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 0; }
dl.status dt { color: #8b949e; } dl.status dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 1px 6px 1px 0; vertical-align: top; white-space: nowrap; }
td:last-child { white-space: normal; }
th { color: #8b949e; font-weight: normal; }
.refused { color: #f85149; }
.muted { color: #8b949e; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 14px; }
.tree { padding-left: 0; }
.tree summary { cursor: pointer; }
.key { color: #79c0ff; }
.leaf { background: none; border: 0; padding: 0 2px; cursor: text; text-align: left; }
.leaf:hover { background: #2a2d34; }
.string { color: #a5d6ff; } .number { color: #d2a8ff; } .boolean, .null { color: #ff7b72; }
.edit { background: #0d1117; border: 1px solid #ffb347; padding: 0 4px; min-width: 12em; }
.error { color: #f85149; }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline li { display: grid; grid-template-columns: max-content max-content 1fr; gap: 8px; padding: 1px 0; }
.timeline time { color: #8b949e; }
.kind { color: #79c0ff; } .kind.refused, .kind.closed, .kind.dropped, .kind.offline { color: #f85149; }
.kind.ack, .kind.open, .kind.authOk, .kind.online { color: #3fb950; } .kind.backoff { color: #d29922; }
`
