import { createClient } from '@remem/client'
import WebSocket from 'ws' // Node 20 needs one; browsers and Node 22+ have WebSocket built in

const client = createClient({ url: process.env.REMEM_URL ?? 'ws://127.0.0.1:8787', WebSocket })
const dashboard = client.memory('dashboard')

dashboard.set('cpu', 0.5)
await dashboard.whenSynced() // acknowledged = persisted; in Redis: the key memory:dashboard:cpu
console.log(dashboard.get('cpu')) // 0.5

await client.close()
