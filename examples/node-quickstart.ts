import { createClient } from '@remem/client'
import WebSocket from 'ws'

const url = process.env.REMEM_URL ?? 'ws://127.0.0.1:8787'

// Two clients stand in for two processes, or a Node worker and a browser tab.
const writer = createClient({ url, WebSocket })
const reader = createClient({ url, WebSocket })

// The reader follows the memory: subscribe() runs after every change, local or remote.
const followed = reader.memory('dashboard')
const stamp = new Date().toISOString()
const arrived = new Promise<void>((resolve) => {
  const unsubscribe = followed.subscribe(() => {
    if (followed.get('updatedAt') !== stamp) return
    unsubscribe()
    resolve()
  })
})

// The writer changes it: plain JSON in, one update for the whole transaction.
const dashboard = writer.memory('dashboard')
dashboard.transact(() => {
  dashboard.set('cpu', 0.42)
  dashboard.set('todos', [{ text: 'water the plants', done: false }])
  dashboard.set('updatedAt', stamp)
})
await dashboard.whenSynced() // the relay has persisted it

await arrived
console.log(followed.getSnapshot())
// { cpu: 0.42, todos: [ { text: 'water the plants', done: false } ], updatedAt: '…' }

await Promise.all([writer.close(), reader.close()])
