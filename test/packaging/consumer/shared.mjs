// Run by the packed-tarball test with plain node against the installed @remem/client:
//   node shared.mjs set <value>      sets `greeting` in memory `packaging`, waits for the ack
//   node shared.mjs wait-reply       prints `reply` once a browser has written it
// The client gets no WebSocket option: like Node 22+, it finds globalThis.WebSocket, which
// this script sets from ws (Node 20 has none).
import { createClient } from '@remem/client'
import { WebSocket } from 'ws'

globalThis.WebSocket ??= WebSocket
const [command, value] = process.argv.slice(2)
const client = createClient({ url: process.env.REMEM_URL, storage: 'memory' })
const memory = client.memory('packaging')
if (command === 'set') {
  memory.set('greeting', value)
  await memory.whenSynced()
  console.log(`set ${JSON.stringify(memory.get('greeting'))}`)
} else if (command === 'wait-reply') {
  const reply = await new Promise((resolve) => {
    const check = () => {
      if (memory.has('reply')) resolve(memory.get('reply'))
    }
    memory.subscribe(check)
    check()
  })
  console.log(`reply ${JSON.stringify(reply)}`)
} else {
  console.error('usage: node shared.mjs set <value> | wait-reply')
  process.exitCode = 2
}
await client.close()
