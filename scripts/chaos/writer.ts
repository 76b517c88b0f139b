/**
 * A chaos client process: one `@remem/client` (memory storage, `ws`) writing its own keys
 * of every memory, journaling each operation before it is made and each acknowledgement
 * after `whenSynced()` resolves. It goes offline (connections refused) and back, drops its
 * socket, and reopens its client on a relay it picks. The main process talks to it over IPC:
 * `{ type: 'stop' }` ends the writing and waits for every ack; `{ type: 'state' }` asks for
 * its copies. Started by processes.ts; never run by hand.
 */
import { type Memory, type RememClient, SyncedDict, SyncedList, createClient } from '@remem/client'
import WebSocket from 'ws'
import { Journal, type WriterEntry } from './journal.ts'
import { type Model, type Op, applyOp, canonical, nextOp, ownKeys } from './ops.ts'
import { createPrng } from './prng.ts'

/** What the main process passes (JSON in argv[2]). */
export interface WriterConfig {
  id: string
  seed: number
  relays: string[]
  memories: string[]
  journal: string
  /** Pause between operations, ms: uniform in [min, max]. */
  opDelayMs: [number, number]
  /** How long `stop` waits for every ack, ms. */
  settleMs: number
}

/** Messages the writer sends to the main process. */
export type WriterReply =
  | { type: 'stop'; id: string; synced: boolean }
  | {
      type: 'state'
      id: string
      json: Record<string, unknown>
      pending: Record<string, number>
      connection: Record<string, string>
    }

const config = JSON.parse(process.argv[2] ?? '{}') as WriterConfig
const { id } = config
const prng = createPrng(config.seed, id)
const journal = new Journal<WriterEntry>(config.journal)
const log = (line: string): void => console.log(`${new Date().toISOString()} ${id} ${line}`)
const note = (what: string): void => {
  journal.write({ t: 'E', what, at: Date.now() })
  log(what)
}

/** The "network": while offline, every connection attempt goes to a closed port. */
const network = { offline: false }
const sockets = new Set<WebSocket>()
class ChaosSocket extends WebSocket {
  constructor(url: string) {
    super(network.offline ? 'ws://127.0.0.1:9' : url)
    sockets.add(this)
    this.once('close', () => sockets.delete(this))
  }
}

const models = new Map<string, Model>(config.memories.map((name) => [name, {}]))
const acked = new Map<string, number>(config.memories.map((name) => [name, 0]))
let seq = 0
let stopping = false
let client: RememClient
let memories = new Map<string, Memory>()

function open(relay: string): void {
  client = createClient({
    url: relay,
    WebSocket: ChaosSocket,
    storage: 'memory',
    onError: (error) => log(`client error: ${error.message}`),
  })
  memories = new Map(config.memories.map((name) => [name, client.memory(name)]))
  journal.write({ t: 'start', id, relay, at: Date.now() })
  log(`client on ${relay}`)
}

function apply(memory: Memory, op: Op): void {
  const dict = (path: string[]): SyncedDict => {
    let node: unknown = memory.get(op.key)
    for (const field of path) node = node instanceof SyncedDict ? node.get(field) : undefined
    if (!(node instanceof SyncedDict)) throw new Error(`${op.key}.${path.join('.')} is not a dict`)
    return node
  }
  const list = (): SyncedList => {
    const node = memory.get(op.key)
    if (!(node instanceof SyncedList)) throw new Error(`${op.key} is not a list`)
    return node
  }
  switch (op.k) {
    case 'set':
      memory.set(op.key, op.value)
      return
    case 'del':
      memory.delete(op.key)
      return
    case 'dset':
      dict(op.path.slice(0, -1)).set(op.path.at(-1)!, op.value)
      return
    case 'ddel':
      dict(op.path.slice(0, -1)).delete(op.path.at(-1)!)
      return
    case 'push':
      list().push(op.item)
      return
    case 'insert':
      list().insert(op.index, op.item)
      return
    case 'ldel':
      list().delete(op.index, 1)
      return
    case 'move':
      list().move(op.from, op.to)
      return
  }
}

let staleSince = 0
/** Makes one operation, unless this copy does not show all of this writer's own changes yet. */
function makeOp(): void {
  const name = prng.pick(config.memories)
  const memory = memories.get(name)!
  const model = models.get(name)!
  const local = canonical(ownKeys(memory.toJSON(), id))
  if (local !== canonical(model)) {
    // Only after a reopen, while the new client loads: wait rather than write on a stale view.
    if (staleSince === 0) staleSince = Date.now()
    if (Date.now() - staleSince > 20_000) {
      note(`own keys of ${name} still differ from the model after 20 s: ${local} vs ${canonical(model)}`)
      staleSince = Date.now()
    }
    return
  }
  staleSince = 0
  const op = nextOp(id, ++seq, model, prng)
  journal.write({ t: 'M', seq, mem: name, op, at: Date.now() })
  apply(memory, op)
  applyOp(model, op)
  const after = canonical(ownKeys(memory.toJSON(), id))
  if (after !== canonical(model)) {
    const what = `after #${seq} ${JSON.stringify(op)}: copy ${after} vs model ${canonical(model)}`
    journal.write({ t: 'V', mem: name, what, at: Date.now() })
    log(`MODEL VIOLATION ${what}`)
  }
  const mine = seq
  memory.whenSynced().then(
    () => {
      if (mine <= acked.get(name)!) return
      acked.set(name, mine)
      journal.write({ t: 'A', seq: mine, mem: name, at: Date.now() })
    },
    (error: unknown) => log(`whenSynced failed: ${String(error)}`),
  )
}

function goOffline(ms: number): void {
  if (network.offline) return
  network.offline = true
  note(`offline for ${ms} ms`)
  for (const socket of sockets) socket.terminate()
  setTimeout(() => {
    network.offline = false
    note('online again')
  }, ms)
}

async function allSynced(ms: number): Promise<boolean> {
  const synced = Promise.all([...memories.values()].map((memory) => memory.whenSynced())).then(() => true)
  return Promise.race([synced, sleep(ms).then(() => false)])
}

/** Closes the client once everything is acknowledged and opens a new one on some relay. */
async function reopen(): Promise<void> {
  if (!(await allSynced(10_000))) return note('reopen skipped: not synced within 10 s')
  const relay = prng.pick(config.relays)
  note(`reopen on ${relay}`)
  await client.close()
  open(relay)
}

async function run(): Promise<void> {
  while (!stopping) {
    await sleep(prng.int(...config.opDelayMs))
    if (stopping) break
    const roll = prng.next()
    if (roll < 0.004) goOffline(prng.int(300, 4000))
    else if (roll < 0.007) {
      note(`dropping ${sockets.size} socket(s)`)
      for (const socket of sockets) socket.terminate()
    } else if (roll < 0.009) await reopen()
    makeOp()
  }
}

const send = (reply: WriterReply): void => {
  process.send?.(reply)
}
let loop: Promise<void> = Promise.resolve()
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') {
    stopping = true
    network.offline = false
    void loop.then(async () => {
      const synced = await allSynced(config.settleMs)
      log(`stopped after ${seq} operations; synced: ${synced}`)
      send({ type: 'stop', id, synced })
    })
  } else if (message.type === 'state') {
    const entries = [...memories.entries()]
    send({
      type: 'state',
      id,
      json: Object.fromEntries(entries.map(([name, memory]) => [name, memory.toJSON()])),
      pending: Object.fromEntries(entries.map(([name, memory]) => [name, memory.status.pending])),
      connection: Object.fromEntries(entries.map(([name, memory]) => [name, memory.status.connection])),
    })
  }
})
process.on('disconnect', () => process.exit(0))

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

open(config.relays[prng.int(0, config.relays.length - 1)]!)
loop = run().catch((error: unknown) => {
  log(`writer crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exit(3)
})
