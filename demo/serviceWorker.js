/* global self, caches */
// The demo's service worker (built into dist/sw.js by serviceWorkerPlugin.ts, which fills in
// the file list). It makes the app reload without a network: the page and its hashed assets
// are cached at install. Pages come from the network when it answers (so a new build and the
// relay address show up at once) and from the cache when it does not; assets, whose names
// change with their content, come from the cache first.
const PRECACHE = self.__REMEM_PRECACHE__
const CACHE = `remem-demo-${self.__REMEM_VERSION__}`
const PAGE = new URL('./', self.location.href).href

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith('remem-demo-') && name !== CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== self.location.origin) return
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone()
            void caches.open(CACHE).then((cache) => cache.put(PAGE, copy))
          }
          return response
        })
        .catch(() => caches.match(PAGE).then((cached) => cached ?? Response.error())),
    )
    return
  }
  event.respondWith(caches.match(request).then((cached) => cached ?? fetch(request)))
})
