/**
 * A Python service on the same Redis Cluster (redis-py's RedisCluster, the way redis-memory's
 * ConversationMemory would use it) and remem share memories whose keys are spread over slots.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { connect, eventually, startRelay } from './helpers.ts'
import { useRedisCluster } from './redisCluster.ts'

const CLUSTER_PRELUDE = `
import json, sys, time
from redis.cluster import RedisCluster, ClusterNode
host, port, prefix, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = RedisCluster(startup_nodes=[ClusterNode(host, port)])
def key(name):
    return f"{prefix}{cid}:{name}"
`
const WRITE = `${CLUSTER_PRELUDE}
for name, value in json.loads(sys.argv[5]).items():
    r.set(key(name), json.dumps({"value": value, "last_modified": time.time_ns()}))
`
const READ = `${CLUSTER_PRELUDE}
out = {}
for name in json.loads(sys.argv[5]):
    raw = r.get(key(name))
    out[name] = None if raw is None else json.loads(raw)["value"]
print(json.dumps(out))
`

const setup = useRedisCluster()
const { cleanups } = setup

/** Runs `script` with /usr/bin/python3 against the cluster, for conversation `cid`. */
async function onCluster(script: string, cid: string, values: unknown): Promise<string> {
  const args = ['127.0.0.1', String(setup.cluster.nodes[0]!.port), 'memory:', cid, JSON.stringify(values)]
  const run = await promisify(execFile)('/usr/bin/python3', ['-c', script, ...args], { timeout: 20_000 })
  return run.stdout
}

describe('a Python RedisCluster client and remem share values on a cluster', () => {
  it('Python writes before and while a client is online; the client writes and Python reads', async () => {
    const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta']
    const slots = new Set(await Promise.all(names.map(async (name) => (await setup.cluster.primaryOf(`memory:py:${name}`)).port)))
    expect(slots.size).toBeGreaterThan(1)
    await onCluster(WRITE, 'py', { alpha: { n: 1 }, beta: ['x', 2] })
    const relay = await startRelay({ redisCluster: setup.cluster.seeds })
    cleanups.push(() => relay.close())
    const client = connect(relay.url)
    cleanups.push(() => client.close())
    const memory = client.memory('py')
    await eventually(() => expect(memory.toJSON()).toEqual({ alpha: { n: 1 }, beta: ['x', 2] }))

    await onCluster(WRITE, 'py', { gamma: 'héllo 🌍', delta: null })
    await eventually(() => expect(memory.toJSON()).toMatchObject({ gamma: 'héllo 🌍', delta: null }))

    memory.set('epsilon', { from: 'js' })
    memory.set('zeta', 3.5)
    await memory.whenSynced()
    await eventually(async () =>
      expect(JSON.parse(await onCluster(READ, 'py', names))).toEqual({
        alpha: { n: 1 },
        beta: ['x', 2],
        gamma: 'héllo 🌍',
        delta: null,
        epsilon: { from: 'js' },
        zeta: 3.5,
      }),
    )
  })
})
