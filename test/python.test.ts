/**
 * A Python service and remem share memories: Python reads and writes exactly as
 * redis-memory's `ConversationMemory(conversation_id=name)` does, with redis-py
 * (Debian's python3-redis, run by /usr/bin/python3):
 *
 *   key   = f"{prefix}{conversation_id}:{name}"
 *   write = r.set(key, json.dumps({"value": v, "last_modified": time.time_ns()}))
 *   read  = json.loads(r.get(key))["value"]
 *   list  = r.scan_iter(f"{prefix}{conversation_id}:*")
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCliRelay } from './cliRelay.ts'
import { connect, eventually, startRelay } from './helpers.ts'
import { type RedisServer, startRedis } from './redisServer.ts'

const PYTHON = '/usr/bin/python3'

/** Python values written by Python code, and what they are in JavaScript. */
const PYTHON_VALUES = `{
    "profile": {"name": "Åsa Øberg", "tags": ["α", "β"], "active": True, "manager": None},
    "scores": [1, 2.5, -3, 1e-07, 10**15],
    "greeting": "héllo wörld 🌍 — 你好",
    "count": 42,
    "ratio": 0.1,
    "enabled": False,
    "nothing": None,
    "nested": {"a": [{"b": [{"c": "deep"}]}], "empty": {}, "none": []},
}`
const JS_VALUES = {
  profile: { name: 'Åsa Øberg', tags: ['α', 'β'], active: true, manager: null },
  scores: [1, 2.5, -3, 1e-7, 1e15],
  greeting: 'héllo wörld 🌍 — 你好',
  count: 42,
  ratio: 0.1,
  enabled: false,
  nothing: null,
  nested: { a: [{ b: [{ c: 'deep' }] }], empty: {}, none: [] },
}

const PRELUDE = `
import json, sys, time
import redis
url, prefix, cid = sys.argv[1], sys.argv[2], sys.argv[3]
r = redis.Redis.from_url(url)
def key(name):
    return f"{prefix}{cid}:{name}"
`

/** Sets every value of PYTHON_VALUES, or of the JSON in argv[4], as ConversationMemory.set does. */
const WRITE = `${PRELUDE}
values = json.loads(sys.argv[4]) if len(sys.argv) > 4 else ${PYTHON_VALUES}
for name, value in values.items():
    r.set(key(name), json.dumps({"value": value, "last_modified": time.time_ns()}))
`

/** Reads the names in argv[4] as ConversationMemory.get does; prints values and Python types. */
const READ = `${PRELUDE}
values, types = {}, {}
for name in json.loads(sys.argv[4]):
    raw = r.get(key(name))
    if raw is not None:
        values[name] = json.loads(raw)["value"]
        types[name] = type(values[name]).__name__
print(json.dumps({"values": values, "types": types}))
`

/** Lists the conversation's keys with SCAN, as ConversationMemory.keys does. */
const LIST = `${PRELUDE}
print(json.dumps(sorted(k.decode() for k in r.scan_iter(key("*")))))
`

async function python(script: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, ...args], {
    timeout: 20_000,
  })
  return stdout
}

/** Why /usr/bin/python3 cannot run redis-py, or null when it can. */
function pythonRedisProblem(): string | null {
  const check = spawnSync(PYTHON, ['-c', 'import redis'], { encoding: 'utf8' })
  if (!check.error && check.status === 0) return null
  return (
    `python3-redis is missing (${PYTHON} -c "import redis" failed: ` +
    `${check.error?.message ?? check.stderr.trim()}). Install it with ` +
    '`apt-get install python3-redis` (npm test does this through scripts/ensure.mjs).'
  )
}

let redis: RedisServer
let problem: string | null
const cleanups: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  problem = pythonRedisProblem()
  redis = await startRedis()
})
// In beforeEach rather than beforeAll, so that every test fails instead of being skipped.
beforeEach(() => {
  if (problem) throw new Error(problem)
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function client(url: string) {
  const c = connect(url)
  cleanups.push(() => c.close())
  return c
}

async function relay() {
  const r = await startRelay({ redis: redis.url })
  cleanups.push(() => r.close())
  return r
}

/** What Python reads for `names` of conversation `cid`. */
async function pythonReads(prefix: string, cid: string, names: string[]) {
  const out = await python(READ, [redis.url, prefix, cid, JSON.stringify(names)])
  return JSON.parse(out) as { values: Record<string, unknown>; types: Record<string, string> }
}

describe('a Python ConversationMemory and remem share values', () => {
  it('Python writes before a client opens the memory: the client loads every value', async () => {
    await python(WRITE, [redis.url, 'memory:', 'py-first'])
    const r = await relay()
    const memory = client(r.url).memory('py-first')
    await eventually(() => expect(memory.toJSON()).toEqual(JS_VALUES))
  })

  it('Python writes while a client is online: the change arrives', async () => {
    const r = await relay()
    const memory = client(r.url).memory('py-live')
    memory.set('seen', 'before')
    await memory.whenSynced()
    await python(WRITE, [redis.url, 'memory:', 'py-live'])
    await eventually(() => expect(memory.toJSON()).toEqual({ seen: 'before', ...JS_VALUES }))
    // A later Python write to one nested value replaces it.
    await python(WRITE, [redis.url, 'memory:', 'py-live', JSON.stringify({ count: 43 })])
    await eventually(() => expect(memory.get('count')).toBe(43))
  })

  it('a client writes: Python reads the same values, with Python types', async () => {
    const r = await relay()
    const memory = client(r.url).memory('from-js')
    for (const [key, value] of Object.entries(JS_VALUES)) memory.set(key, value)
    await memory.whenSynced()
    const names = Object.keys(JS_VALUES)
    await eventually(
      async () => {
        const { values, types } = await pythonReads('memory:', 'from-js', names)
        expect(values).toEqual(JS_VALUES)
        expect(types).toMatchObject({
          profile: 'dict',
          scores: 'list',
          greeting: 'str',
          count: 'int',
          ratio: 'float',
          enabled: 'bool',
          nothing: 'NoneType',
        })
      },
      { intervalMs: 50 },
    )
    // Edits inside nested values reach Python too.
    ;(memory.get('profile') as { set(k: string, v: unknown): void }).set('name', 'Bo')
    await memory.whenSynced()
    await eventually(
      async () => {
        const { values } = await pythonReads('memory:', 'from-js', ['profile'])
        expect(values.profile).toEqual({ ...JS_VALUES.profile, name: 'Bo' })
      },
      { intervalMs: 50 },
    )
  })

  it("Python's scan_iter lists exactly the user keys, no internal ones", async () => {
    const r = await relay()
    const memory = client(r.url).memory('listed')
    memory.set('a', 1)
    memory.set('b', { c: [2] })
    await memory.whenSynced()
    await python(WRITE, [redis.url, 'memory:', 'listed', JSON.stringify({ fromPython: true })])
    await eventually(() => expect(memory.get('fromPython')).toBe(true))
    const check = new Redis(redis.url)
    cleanups.push(async () => check.disconnect())
    // The relay's own keys exist, so leaving them out is not an accident of timing.
    expect(await check.exists('remem:{memory:listed}:log', 'remem:{memory:listed}:proj')).toBe(2)
    await eventually(
      async () => {
        const keys = JSON.parse(await python(LIST, [redis.url, 'memory:', 'listed'])) as string[]
        expect(keys).toEqual(['memory:listed:a', 'memory:listed:b', 'memory:listed:fromPython'])
      },
      { intervalMs: 50 },
    )
  })

  it('honours REDIS_PREFIX: remem-relay with REDIS_PREFIX=app: and Python with prefix app:', async () => {
    const cli = await startCliRelay(['--port', '0'], { REDIS_URL: redis.url, REDIS_PREFIX: 'app:' })
    cleanups.push(() => cli.stop())
    expect(cli.line).toContain('prefix app:')
    const memory = client(cli.url).memory('pref')
    memory.set('fromJs', { list: [1, 'two', null] })
    await memory.whenSynced()
    await python(WRITE, [redis.url, 'app:', 'pref', JSON.stringify({ fromPython: { ok: true } })])
    await eventually(() => expect(memory.get('fromPython')).toBeDefined())
    expect(memory.toJSON()).toEqual({
      fromJs: { list: [1, 'two', null] },
      fromPython: { ok: true },
    })
    await eventually(
      async () => {
        const { values } = await pythonReads('app:', 'pref', ['fromJs'])
        expect(values).toEqual({ fromJs: { list: [1, 'two', null] } })
        const keys = JSON.parse(await python(LIST, [redis.url, 'app:', 'pref'])) as string[]
        expect(keys).toEqual(['app:pref:fromJs', 'app:pref:fromPython'])
      },
      { intervalMs: 50 },
    )
    // Nothing under the default prefix.
    expect(JSON.parse(await python(LIST, [redis.url, 'memory:', 'pref']))).toEqual([])
  })
})
