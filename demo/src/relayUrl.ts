/**
 * The relay this page talks to: `?relay=ws://…` (so one page can be pointed at any relay),
 * else what the demo server wrote into the page, else `VITE_REMEM_URL` from the build, else
 * port 8787 on the page's host.
 */
export function relayUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get('relay')
  if (fromQuery) return fromQuery
  const fromServer = document.querySelector<HTMLMetaElement>('meta[name="remem-relay"]')?.content
  if (fromServer) return fromServer
  return import.meta.env.VITE_REMEM_URL ?? `ws://${location.hostname}:8787`
}
