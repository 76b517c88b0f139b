import { createRelay } from '@remem/server'

// The embedded store; add `redis: 'redis://127.0.0.1:6379'` to keep memories in Redis.
const relay = await createRelay({ port: 0, prefix: 'memory:' })
console.log(`relay on ${relay.url}`) // ws://127.0.0.1:<a free port>

await relay.close() // persists and acknowledges what is queued, then stops
