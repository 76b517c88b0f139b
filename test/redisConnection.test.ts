/**
 * Ways to reach Redis, each against a real redis-server set up for it: TLS with a
 * self-signed CA, ACL users and wrong passwords, a unix socket, the separate REDIS_*
 * variables with a database number, connect and command timeouts against a hung server,
 * and a Redis without CONFIG (keyspace on and off). Most are exercised both through
 * `createRelay` and through the `remem-relay` command.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { redisConfigFrom } from '../packages/server/src/redisConfig.ts'
import { mergeFlags } from '../packages/server/src/store/RedisProjection.ts'
import { runCliRelay, startCliRelay } from './cliRelay.ts'
import { connect, eventually, startRelay } from './helpers.ts'
import { type RedisServer, freePort, startRedis } from './redisServer.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Closes or stops `resource` after the test. */
function later<T extends { close(): Promise<unknown> } | { stop(): Promise<unknown> }>(
  resource: T,
): T {
  cleanups.push(() => ('close' in resource ? resource.close() : resource.stop()))
  return resource
}

/** A plain ioredis connection for checking what reached Redis. */
function redisClient(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, ...options })
  redis.on('error', () => undefined) // failures surface as rejected commands
  cleanups.push(async () => redis.disconnect())
  return redis
}

/** The value a relay projected to `P{name}:{key}`, or undefined. */
async function projected(redis: Redis, key: string): Promise<unknown> {
  const raw = await redis.get(key)
  return raw === null ? undefined : (JSON.parse(raw) as { value: unknown }).value
}

/** Writes `value` through a client of `relayUrl` and waits until Redis holds it. */
async function writeThrough(
  relayUrl: string,
  name: string,
  key: string,
  value: unknown,
  check: Redis,
  prefix = 'memory:',
) {
  const client = later(connect(relayUrl))
  const memory = client.memory(name)
  memory.set(key, value as never)
  await memory.whenSynced()
  await eventually(async () =>
    expect(await projected(check, `${prefix}${name}:${key}`)).toEqual(value),
  )
  return memory
}

/** The error `starting` rejects with; fails the test if the relay starts after all. */
async function startError(starting: Promise<{ close(): Promise<void> }>): Promise<Error> {
  let relay
  try {
    relay = await starting
  } catch (error) {
    return error as Error
  }
  await relay.close()
  throw new Error('expected the relay to fail at startup')
}

describe('Redis over TLS with a self-signed CA', () => {
  let redis: RedisServer
  let certs: string
  let ca: string
  let caPath: string
  let tlsUrl: string

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'remem-tls-'))
    caPath = makeCertificates(certs)
    ca = readFileSync(caPath, 'utf8')
    const tlsPort = await freePort()
    redis = await startRedis({
      args: [
        ...['--port', '0', '--tls-port', String(tlsPort)],
        ...[
          '--tls-cert-file',
          join(certs, 'server.crt'),
          '--tls-key-file',
          join(certs, 'server.key'),
        ],
        ...['--tls-ca-cert-file', caPath, '--tls-auth-clients', 'no'],
      ],
    })
    tlsUrl = `rediss://127.0.0.1:${tlsPort}`
  })
  afterAll(async () => {
    await redis.stop()
    rmSync(certs, { recursive: true, force: true })
  })

  it('createRelay connects with the CA, and a client write reaches Redis', async () => {
    const relay = later(await startRelay({ redis: { url: tlsUrl, tls: { ca } } }))
    const check = redisClient(tlsUrl, { tls: { ca } })
    await writeThrough(relay.url, 'tls', 'greeting', { text: 'hej', n: [1, 2] }, check)
  })

  it('REDIS_TLS_CA and REDIS_TLS_INSECURE become the redis option of createRelay', async () => {
    const withCa = redisConfigFrom({ url: tlsUrl }, { REDIS_TLS_CA: caPath })
    expect(withCa).toEqual({ url: tlsUrl, tls: { ca } })
    const relay = later(await startRelay({ redis: withCa! }))
    const check = redisClient(tlsUrl, { tls: { ca } })
    await writeThrough(relay.url, 'tls', 'viaCa', 1, check)

    const insecure = redisConfigFrom({}, { REDIS_URL: tlsUrl, REDIS_TLS_INSECURE: '1' })
    const relay2 = later(await startRelay({ redis: insecure! }))
    await writeThrough(relay2.url, 'tls', 'insecure', 2, check)
  })

  it('without the CA, startup fails naming the URL and the CA option', async () => {
    const error = await startError(startRelay({ redis: tlsUrl }))
    expect(error.message).toContain(`Cannot reach Redis at ${tlsUrl}`)
    expect(error.message).toMatch(/certificate/)
    expect(error.message).toContain('REDIS_TLS_CA')
  })

  it('remem-relay connects with REDIS_URL=rediss://… and REDIS_TLS_CA', async () => {
    const relay = later(
      await startCliRelay(['--port', '0'], { REDIS_URL: tlsUrl, REDIS_TLS_CA: caPath }),
    )
    expect(relay.line).toContain(`(store: redis ${tlsUrl}, prefix memory:)`)
    const check = redisClient(tlsUrl, { tls: { ca } })
    await writeThrough(relay.url, 'tls', 'fromCli', 'yes', check)
  })

  it('--redis-connect-timeout-ms bounds a TLS handshake that never completes', async () => {
    // A stopped server still accepts TCP connections (the kernel does), but never answers.
    await paused(redis, async () => {
      const started = Date.now()
      const { code, stderr } = await runCliRelay(
        ['--port', '0', '--redis-connect-timeout-ms', '300'],
        { REDIS_URL: tlsUrl, REDIS_TLS_CA: caPath },
      )
      expect(code).toBe(1)
      expect(stderr).toContain(`remem-relay: Cannot reach Redis at ${tlsUrl} (connect ETIMEDOUT)`)
      // Well before the 5 s the relay waits for a first answer without the flag.
      expect(Date.now() - started).toBeLessThan(4500)
    })
  })
})

describe('Redis with ACL users', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis({
      args: ['--user', 'alice', 'on', '>s3cret', '~*', '&*', '+@all', '--user', 'default', 'off'],
    })
  })
  afterAll(async () => {
    await redis.stop()
  })

  const aliceUrl = (password: string, db = 0) =>
    `redis://alice:${password}@127.0.0.1:${redis.port}/${db}`

  it('a relay with redis://alice:s3cret@… works, and the default user is off', async () => {
    const check = redisClient(aliceUrl('s3cret'))
    await expect(redisClient(redis.url).ping()).rejects.toThrow(/NOAUTH|WRONGPASS|disabled/)
    const relay = later(await startRelay({ redis: aliceUrl('s3cret') }))
    await writeThrough(relay.url, 'acl', 'owner', 'alice', check)
  })

  it('a wrong password fails createRelay, naming the masked URL and what to check', async () => {
    const error = await startError(startRelay({ redis: aliceUrl('wrong-pass') }))
    expect(error.message).toContain(
      `Cannot reach Redis at redis://alice:***@127.0.0.1:${redis.port}/0`,
    )
    expect(error.message).toContain('WRONGPASS')
    expect(error.message).toMatch(/username and password/)
    expect(error.message).not.toContain('wrong-pass')
  })

  it('a wrong password makes remem-relay exit 1 with one line on stderr, password masked', async () => {
    const { code, stdout, stderr } = await runCliRelay(['--port', '0'], {
      REDIS_URL: aliceUrl('wrong-pass'),
    })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    const lines = stderr.trim().split('\n')
    expect(lines.filter((line) => line.startsWith('remem-relay: '))).toEqual([
      expect.stringContaining(
        `remem-relay: Cannot reach Redis at redis://alice:***@127.0.0.1:${redis.port}/0 (WRONGPASS`,
      ),
    ])
    expect(stderr).not.toContain('wrong-pass')
  })

  it('REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD and REDIS_DB reach database 3', async () => {
    const relay = later(
      await startCliRelay(['--port', '0'], {
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        REDIS_USERNAME: 'alice',
        REDIS_PASSWORD: 's3cret',
        REDIS_DB: '3',
      }),
    )
    expect(relay.line).toContain(`store: redis redis://alice:***@127.0.0.1:${redis.port}/3`)
    expect(relay.line).not.toContain('s3cret')
    const db3 = redisClient(aliceUrl('s3cret', 3))
    const memory = await writeThrough(relay.url, 'env', 'where', 'db3', db3)
    const db0 = redisClient(aliceUrl('s3cret', 0))
    expect(await db0.exists('memory:env:where')).toBe(0)
    // SELECT on one connection, as redis-cli -n would.
    const selecting = redisClient(aliceUrl('s3cret', 0))
    await selecting.select(3)
    expect(await selecting.exists('memory:env:where')).toBe(1)
    // The relay follows keyspace events of database 3, too.
    await db3.set('memory:env:external', JSON.stringify({ value: { from: 'db3' } }))
    await eventually(() => expect(memory.toJSON()).toMatchObject({ external: { from: 'db3' } }))
  })
})

describe('Redis on a unix socket', () => {
  let redis: RedisServer
  let socketDir: string
  let socket: string
  beforeAll(async () => {
    socketDir = mkdtempSync(join(tmpdir(), 'remem-sock-'))
    socket = join(socketDir, 'redis.sock')
    redis = await startRedis({
      args: ['--unixsocket', socket, '--unixsocketperm', '700', '--requirepass', 'sockpw'],
    })
  })
  afterAll(async () => {
    await redis.stop()
    rmSync(socketDir, { recursive: true, force: true })
  })

  it('remem-relay works with REDIS_URL=unix://<path> and the password as ?password=', async () => {
    const relay = later(
      await startCliRelay(['--port', '0'], { REDIS_URL: `unix://${socket}?password=sockpw` }),
    )
    expect(relay.line).toContain(`store: redis unix://${socket}?password=***`)
    const check = redisClient(`redis://:sockpw@127.0.0.1:${redis.port}/0`)
    await writeThrough(relay.url, 'sock', 'via', 'unix socket', check)
  })

  it('createRelay takes unix://:password@/path?db=2', async () => {
    const relay = later(await startRelay({ redis: `unix://:sockpw@${socket}?db=2` }))
    const check = redisClient(`redis://:sockpw@127.0.0.1:${redis.port}/2`)
    await writeThrough(relay.url, 'sock', 'db', 2, check)
  })
})

describe('a Redis that does not answer', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis.stop()
  })

  it('--redis-command-timeout-ms fails commands that get no answer', async () => {
    await paused(redis, async () => {
      const { code, stderr } = await runCliRelay(
        ['--port', '0', '--redis-command-timeout-ms', '300'],
        { REDIS_URL: redis.url },
      )
      expect(code).toBe(1)
      expect(stderr).toMatch(
        /^remem-relay: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*Command timed out\)/m,
      )
      expect(stderr).toContain('--redis-command-timeout-ms')
    })
  })
})

describe('Redis without CONFIG', () => {
  let redis: RedisServer
  const command = `CONFIG SET notify-keyspace-events ${mergeFlags('')}`
  beforeAll(async () => {
    redis = await startRedis({ args: ['--rename-command', 'CONFIG', ''] })
  })
  afterAll(async () => {
    await redis.stop()
  })

  it('keyspace on: createRelay fails with the exact command to run', async () => {
    const error = await startError(startRelay({ redis: redis.url }))
    expect(error.message).toContain(command)
    expect(error.message).toContain('--keyspace off')
  })

  it('keyspace on: remem-relay exits 1 with the command to run', async () => {
    const { code, stderr } = await runCliRelay(['--port', '0', '--redis', redis.url], {})
    expect(code).toBe(1)
    expect(stderr).toContain(`remem-relay: Redis refused CONFIG SET`)
    expect(stderr).toContain(command)
  })

  it('keyspace off: an external SET reaches a client through periodic reconcile', async () => {
    const relay = later(
      await startRelay({ redis: redis.url, keyspace: 'off', reconcileIntervalMs: 100 }),
    )
    const client = later(connect(relay.url))
    const memory = client.memory('polled')
    memory.set('mine', true)
    await memory.whenSynced() // loaded, and its load-time reconcile is over
    const external = redisClient(redis.url)
    await external.set('memory:polled:temp', JSON.stringify({ value: 21.5, last_modified: 1 }))
    await eventually(() => expect(memory.toJSON()).toEqual({ mine: true, temp: 21.5 }))
  })

  it('REMEM_KEYSPACE=off starts remem-relay and says how it finds external writes', async () => {
    const relay = later(
      await startCliRelay(['--port', '0', '--reconcile-interval-ms', '100'], {
        REDIS_URL: redis.url,
        REMEM_KEYSPACE: 'off',
      }),
    )
    expect(relay.line).toContain('keyspace off: reconcile every 100 ms')
    const client = later(connect(relay.url))
    const memory = client.memory('polledCli')
    memory.set('mine', 1)
    await memory.whenSynced()
    await redisClient(redis.url).set('memory:polledCli:ext', '"bare json"')
    await eventually(() => expect(memory.get('ext')).toBe('bare json'))
  })
})

describe('Redis without CONFIG whose notifications are already on (managed Redis)', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis({
      args: ['--notify-keyspace-events', 'KEA', '--rename-command', 'CONFIG', ''],
    })
  })
  afterAll(async () => {
    await redis.stop()
  })

  it('keyspace on: the relay checks that notifications arrive, starts, and follows external writes', async () => {
    const relay = later(await startRelay({ redis: redis.url }))
    const client = later(connect(relay.url))
    const memory = client.memory('managed')
    memory.set('mine', true)
    await memory.whenSynced()
    await redisClient(redis.url).set('memory:managed:ext', JSON.stringify({ value: 'live', last_modified: 1 }))
    await eventually(() => expect(memory.toJSON()).toEqual({ mine: true, ext: 'live' }))
  })
})

/** Runs `body` while `server` is stopped with SIGSTOP, as a hung Redis would be. */
async function paused(server: RedisServer, body: () => Promise<void>): Promise<void> {
  const pid = server.pid
  if (pid === undefined) throw new Error('redis-server is not running')
  process.kill(pid, 'SIGSTOP')
  try {
    await body()
  } finally {
    process.kill(pid, 'SIGCONT')
  }
}

/** Writes a self-signed CA and a server certificate for 127.0.0.1 to `dir`; returns the CA's path. */
function makeCertificates(dir: string): string {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
  } catch {
    throw new Error('openssl not found: install it with `apt-get install openssl`')
  }
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=remem test CA',
  )
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  openssl(
    ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'],
    ...['-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'],
  )
  return join(dir, 'ca.crt')
}
