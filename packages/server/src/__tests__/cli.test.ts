import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CliUsageError, parseCliArgs } from '../cliArgs.ts'
import { describeRedis, redisConfigFrom, redisOptionsFromEnv } from '../redisConfig.ts'
import { ioredisArguments, maskRedisUrl, parseUnixSocketUrl } from '../store/redisUrl.ts'

const bin = fileURLToPath(new URL('../../bin/remem-relay.js', import.meta.url))

async function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

function usageError(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CliUsageError)
    return (error as Error).message
  }
  throw new Error('expected a CliUsageError')
}

describe('redisOptionsFromEnv', () => {
  it('returns undefined without Redis variables (embedded store)', () => {
    expect(redisOptionsFromEnv({})).toBeUndefined()
    expect(redisOptionsFromEnv({ PORT: '1', HOST: 'x' })).toBeUndefined()
  })

  it('treats empty variables as unset', () => {
    expect(redisOptionsFromEnv({ REDIS_URL: '', REDIS_HOST: '' })).toBeUndefined()
  })

  it('returns REDIS_URL as is, and it wins over the separate variables', () => {
    expect(redisOptionsFromEnv({ REDIS_URL: 'rediss://u:p@h:6380/2' })).toBe(
      'rediss://u:p@h:6380/2',
    )
    expect(
      redisOptionsFromEnv({ REDIS_URL: 'redis://a:1', REDIS_HOST: 'b', REDIS_PORT: '2' }),
    ).toBe('redis://a:1')
  })

  it('fills host and port defaults when only some variables are set', () => {
    expect(redisOptionsFromEnv({ REDIS_HOST: 'cache' })).toEqual({ host: 'cache', port: 6379 })
    expect(redisOptionsFromEnv({ REDIS_PORT: '6380' })).toEqual({ host: '127.0.0.1', port: 6380 })
    expect(redisOptionsFromEnv({ REDIS_PASSWORD: 's3cret' })).toEqual({
      host: '127.0.0.1',
      port: 6379,
      password: 's3cret',
    })
  })

  it('combines every variable', () => {
    expect(
      redisOptionsFromEnv({
        REDIS_HOST: 'cache',
        REDIS_PORT: '6390',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'pw',
        REDIS_DB: '3',
      }),
    ).toEqual({ host: 'cache', port: 6390, username: 'app', password: 'pw', db: 3 })
  })

  it('names the variable that is not a number', () => {
    expect(() => redisOptionsFromEnv({ REDIS_PORT: 'abc' })).toThrow(/REDIS_PORT/)
    expect(() => redisOptionsFromEnv({ REDIS_PORT: '70000' })).toThrow(/REDIS_PORT/)
    expect(() => redisOptionsFromEnv({ REDIS_DB: '-1' })).toThrow(/REDIS_DB/)
    expect(() => redisOptionsFromEnv({ REDIS_DB: '1.5' })).toThrow(/REDIS_DB/)
  })
})

describe('describeRedis', () => {
  it('masks the password of URLs and options', () => {
    expect(describeRedis('redis://app:s3cret@cache:6379/2')).toBe('redis://app:***@cache:6379/2')
    expect(describeRedis('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    const described = describeRedis({ host: 'cache', port: 6390, password: 's3cret', db: 2 })
    expect(described).toContain('cache:6390')
    expect(described).not.toContain('s3cret')
  })
})

describe('redisConfigFrom', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  const files: Record<string, string> = { '/etc/ca.pem': ca }
  const readFile = (path: string): string => {
    const text = files[path]
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
    return text
  }

  it('lets --redis win over REDIS_URL and the separate variables', () => {
    expect(
      redisConfigFrom({ url: 'redis://flag:1' }, { REDIS_URL: 'redis://env:2', REDIS_HOST: 'h' }),
    ).toBe('redis://flag:1')
  })

  it('adds timeouts to a URL, naming the flag or variable when they are wrong', () => {
    expect(
      redisConfigFrom(
        { url: 'redis://r:6379', commandTimeoutMs: '250' },
        { REDIS_CONNECT_TIMEOUT_MS: '1500' },
      ),
    ).toEqual({ url: 'redis://r:6379', connectTimeout: 1500, commandTimeout: 250 })
    expect(redisConfigFrom({}, { REDIS_HOST: 'cache', REDIS_COMMAND_TIMEOUT_MS: '100' })).toEqual({
      host: 'cache',
      port: 6379,
      commandTimeout: 100,
    })
    expect(() =>
      redisConfigFrom({}, { REDIS_URL: 'redis://r', REDIS_CONNECT_TIMEOUT_MS: '5s' }),
    ).toThrow(/^REDIS_CONNECT_TIMEOUT_MS must be an integer/)
    expect(() => redisConfigFrom({ url: 'redis://r', commandTimeoutMs: '0' }, {})).toThrow(
      /^--redis-command-timeout-ms must be an integer from 1/,
    )
  })

  it('reads the CA file for rediss:// and turns off verification when asked', () => {
    expect(
      redisConfigFrom({ url: 'rediss://r:6380' }, { REDIS_TLS_CA: '/etc/ca.pem' }, readFile),
    ).toEqual({
      url: 'rediss://r:6380',
      tls: { ca },
    })
    expect(redisConfigFrom({ url: 'rediss://r', tlsInsecure: true }, {}, readFile)).toEqual({
      url: 'rediss://r',
      tls: { rejectUnauthorized: false },
    })
    // rediss:// already means TLS; REDIS_TLS=1 adds nothing.
    expect(redisConfigFrom({}, { REDIS_URL: 'rediss://r', REDIS_TLS: '1' }, readFile)).toBe(
      'rediss://r',
    )
  })

  it('turns TLS on for the separate variables with REDIS_TLS or a TLS option', () => {
    expect(redisConfigFrom({}, { REDIS_HOST: 'cache', REDIS_TLS: 'true' })).toEqual({
      host: 'cache',
      port: 6379,
      tls: {},
    })
    expect(redisConfigFrom({ tlsCa: '/etc/ca.pem' }, { REDIS_HOST: 'cache' }, readFile)).toEqual({
      host: 'cache',
      port: 6379,
      tls: { ca },
    })
    expect(redisConfigFrom({}, { REDIS_HOST: 'cache', REDIS_TLS: '0' })).toEqual({
      host: 'cache',
      port: 6379,
    })
  })

  it('refuses TLS settings with a plain redis:// or unix URL, masking the password', () => {
    const message = () =>
      redisConfigFrom({}, { REDIS_URL: 'redis://u:pw@r', REDIS_TLS_CA: '/etc/ca.pem' }, readFile)
    expect(message).toThrow(
      /^REDIS_TLS_CA asks for TLS, but REDIS_URL is redis:\/\/u:\*\*\*@r: use a rediss:\/\/ URL/,
    )
    expect(() => redisConfigFrom({ url: 'unix:///run/redis.sock', tls: true }, {})).toThrow(
      /^--redis-tls asks for TLS/,
    )
  })

  it('names an unreadable CA file and a bad boolean', () => {
    expect(() =>
      redisConfigFrom({ url: 'rediss://r' }, { REDIS_TLS_CA: '/nope.pem' }, readFile),
    ).toThrow('REDIS_TLS_CA names a CA file that cannot be read: /nope.pem (ENOENT)')
    expect(() =>
      redisConfigFrom({}, { REDIS_URL: 'rediss://r', REDIS_TLS_INSECURE: 'maybe' }),
    ).toThrow(/^REDIS_TLS_INSECURE must be 1 or 0/)
  })

  it('says that a Redis flag needs Redis, and ignores Redis-only variables without Redis', () => {
    expect(() => redisConfigFrom({ commandTimeoutMs: '100' }, {})).toThrow(
      /^--redis-command-timeout-ms needs Redis: add --redis/,
    )
    expect(redisConfigFrom({}, { REDIS_COMMAND_TIMEOUT_MS: '100', REDIS_TLS: '1' })).toBeUndefined()
  })

  it('accepts unix socket URLs and rejects other schemes, masked', () => {
    expect(redisConfigFrom({}, { REDIS_URL: 'unix:///run/redis.sock?db=2' })).toBe(
      'unix:///run/redis.sock?db=2',
    )
    expect(() => redisConfigFrom({}, { REDIS_URL: 'unix://redis.sock' })).toThrow(
      /^REDIS_URL: a unix socket URL needs an absolute path/,
    )
    expect(() => redisConfigFrom({ url: 'http://u:pw@cache:6379' }, {})).toThrow(
      '--redis must be a redis://, rediss:// or unix:// URL, e.g. redis://user:pass@127.0.0.1:6379/0, got "http://u:***@cache:6379"',
    )
  })
})

describe('unix socket URLs', () => {
  it('read path, db, username and password in the forms redis-py uses', () => {
    expect(parseUnixSocketUrl('unix:///run/redis.sock')).toEqual({ path: '/run/redis.sock' })
    expect(parseUnixSocketUrl('unix:///run/redis.sock?db=2&password=p%40ss')).toEqual({
      path: '/run/redis.sock',
      db: 2,
      password: 'p@ss',
    })
    expect(parseUnixSocketUrl('unix://app:p%3Aw@/run/redis.sock')).toEqual({
      path: '/run/redis.sock',
      username: 'app',
      password: 'p:w',
    })
    expect(parseUnixSocketUrl('redis+unix://:pw@/tmp/r.sock?db=0')).toEqual({
      path: '/tmp/r.sock',
      password: 'pw',
      db: 0,
    })
    expect(parseUnixSocketUrl('unix:/tmp/r.sock')).toEqual({ path: '/tmp/r.sock' })
  })

  it('name what is wrong without the password', () => {
    expect(() => parseUnixSocketUrl('unix://:pw@run/redis.sock')).toThrow(
      /absolute path.*unix:\/\/:\*\*\*@run/,
    )
    expect(() => parseUnixSocketUrl('unix:///r.sock?db=x&password=pw')).toThrow(
      /db in unix:\/\/\/r.sock\?db=x&password=\*\*\* must be a number/,
    )
    expect(() => parseUnixSocketUrl('unix:///r.sock?timeout=1')).toThrow(
      /unknown parameter "timeout"/,
    )
  })

  it('become ioredis options that win over the options they come with', () => {
    expect(ioredisArguments({ url: 'unix:///r.sock?db=1', db: 5, commandTimeout: 9 })).toEqual({
      options: { path: '/r.sock', db: 1, commandTimeout: 9 },
    })
    expect(ioredisArguments('rediss://h:1')).toEqual({ url: 'rediss://h:1', options: {} })
  })

  it('are masked in messages', () => {
    expect(maskRedisUrl('unix://app:pw@/run/redis.sock')).toBe('unix://app:***@/run/redis.sock')
    expect(describeRedis('unix:///run/redis.sock?password=pw&db=1')).toBe(
      'unix:///run/redis.sock?password=***&db=1',
    )
    expect(describeRedis({ path: '/run/redis.sock', password: 'pw', db: 1 })).toBe(
      'unix://:***@/run/redis.sock?db=1',
    )
    expect(describeRedis({ url: 'rediss://u:pw@h:1', tls: { ca: 'x' } })).toBe('rediss://u:***@h:1')
  })
})

describe('parseCliArgs', () => {
  it('has defaults: port 8787, host 127.0.0.1, prefix memory:, embedded store', () => {
    expect(parseCliArgs([], {})).toEqual({
      kind: 'run',
      options: { port: 8787, host: '127.0.0.1', prefix: 'memory:' },
    })
  })

  it('reads PORT, HOST, REDIS_PREFIX, REDIS_URL and REMEM_IDLE_UNLOAD_MS', () => {
    expect(
      parseCliArgs([], {
        PORT: '9000',
        HOST: '0.0.0.0',
        REDIS_PREFIX: 'app:',
        REDIS_URL: 'redis://r:6379',
        REMEM_IDLE_UNLOAD_MS: '500',
      }),
    ).toEqual({
      kind: 'run',
      options: {
        port: 9000,
        host: '0.0.0.0',
        prefix: 'app:',
        redis: 'redis://r:6379',
        idleUnloadMs: 500,
      },
    })
  })

  it('builds ioredis options from REDIS_HOST and friends', () => {
    const command = parseCliArgs([], { REDIS_HOST: 'cache', REDIS_DB: '1' })
    expect(command).toMatchObject({
      kind: 'run',
      options: { redis: { host: 'cache', port: 6379, db: 1 } },
    })
  })

  it('lets flags win over the environment', () => {
    const env = {
      PORT: '9000',
      HOST: 'a',
      REDIS_PREFIX: 'env:',
      REDIS_URL: 'redis://env',
      REDIS_HOST: 'x',
    }
    expect(
      parseCliArgs(
        [
          '--port',
          '0',
          '--host',
          '::1',
          '--prefix',
          'flag:',
          '--redis',
          'redis://flag:1',
          '--idle-unload-ms=250',
        ],
        env,
      ),
    ).toEqual({
      kind: 'run',
      options: {
        port: 0,
        host: '::1',
        prefix: 'flag:',
        redis: 'redis://flag:1',
        idleUnloadMs: 250,
      },
    })
    expect(parseCliArgs(['-p', '1234'], {})).toMatchObject({ options: { port: 1234 } })
    expect(parseCliArgs(['--port=4321'], {})).toMatchObject({ options: { port: 4321 } })
  })

  it('recognises --help, -h, --version and -v before anything else', () => {
    expect(parseCliArgs(['--help'], {})).toEqual({ kind: 'help' })
    expect(parseCliArgs(['-h', '--port', 'nope'], {})).toEqual({ kind: 'help' })
    expect(parseCliArgs(['--version'], {})).toEqual({ kind: 'version' })
    expect(parseCliArgs(['-v'], {})).toEqual({ kind: 'version' })
  })

  it('names an unknown flag', () => {
    expect(usageError(() => parseCliArgs(['--redis-url', 'x'], {}))).toMatch(
      /unknown option --redis-url.*--help/,
    )
    expect(usageError(() => parseCliArgs(['-x'], {}))).toMatch(/unknown option -x/)
  })

  it('names a stray argument and a flag without its value', () => {
    expect(usageError(() => parseCliArgs(['8787'], {}))).toMatch(/unexpected argument 8787/)
    expect(usageError(() => parseCliArgs(['--port'], {}))).toMatch(/--port needs a value/)
  })

  it('rejects bad numbers, naming the flag or the variable', () => {
    expect(usageError(() => parseCliArgs(['--port', '65536'], {}))).toMatch(/^--port must be/)
    expect(usageError(() => parseCliArgs(['--port', 'http'], {}))).toMatch(/^--port must be/)
    expect(usageError(() => parseCliArgs([], { PORT: '-1' }))).toMatch(/^PORT must be/)
    expect(usageError(() => parseCliArgs(['--idle-unload-ms', '1e3'], {}))).toMatch(
      /^--idle-unload-ms must be/,
    )
    expect(usageError(() => parseCliArgs([], { REDIS_PORT: 'x' }))).toMatch(/REDIS_PORT/)
  })

  it('rejects prefixes that would break key patterns', () => {
    expect(usageError(() => parseCliArgs(['--prefix', ''], {}))).toMatch(/^--prefix/)
    expect(usageError(() => parseCliArgs(['--prefix', 'a*'], {}))).toMatch(/^--prefix/)
    expect(usageError(() => parseCliArgs([], { REDIS_PREFIX: 'a{b}' }))).toMatch(/^REDIS_PREFIX/)
  })

  it('rejects an empty --redis', () => {
    expect(usageError(() => parseCliArgs(['--redis', ''], {}))).toMatch(/--redis needs a URL/)
  })
  it('reads the Redis connection, TLS and timeout flags over their variables', () => {
    const readFile = (path: string) => `CA from ${path}`
    expect(
      parseCliArgs(
        [
          '--redis',
          'rediss://cache:6380',
          '--redis-tls-ca',
          '/flag/ca.pem',
          '--redis-connect-timeout-ms',
          '900',
          '--redis-command-timeout-ms=300',
        ],
        { REDIS_TLS_CA: '/env/ca.pem', REDIS_CONNECT_TIMEOUT_MS: '1' },
        readFile,
      ),
    ).toEqual({
      kind: 'run',
      options: {
        port: 8787,
        host: '127.0.0.1',
        prefix: 'memory:',
        redis: {
          url: 'rediss://cache:6380',
          tls: { ca: 'CA from /flag/ca.pem' },
          connectTimeout: 900,
          commandTimeout: 300,
        },
      },
    })
    expect(parseCliArgs(['--redis-tls-insecure'], { REDIS_URL: 'rediss://r' })).toMatchObject({
      options: { redis: { url: 'rediss://r', tls: { rejectUnauthorized: false } } },
    })
    expect(parseCliArgs(['--redis-tls'], { REDIS_HOST: 'cache' })).toMatchObject({
      options: { redis: { host: 'cache', tls: {} } },
    })
  })

  it('reads --keyspace and --reconcile-interval-ms over REMEM_KEYSPACE and REMEM_RECONCILE_INTERVAL_MS', () => {
    expect(
      parseCliArgs([], { REMEM_KEYSPACE: 'off', REMEM_RECONCILE_INTERVAL_MS: '2000' }),
    ).toMatchObject({
      options: { keyspace: 'off', reconcileIntervalMs: 2000 },
    })
    expect(
      parseCliArgs(['--keyspace', 'on', '--reconcile-interval-ms', '50'], {
        REMEM_KEYSPACE: 'off',
      }),
    ).toMatchObject({ options: { keyspace: 'on', reconcileIntervalMs: 50 } })
    expect(usageError(() => parseCliArgs(['--keyspace', 'maybe'], {}))).toBe(
      '--keyspace must be on or off, got "maybe"',
    )
    expect(usageError(() => parseCliArgs([], { REMEM_KEYSPACE: 'OFF' }))).toMatch(
      /^REMEM_KEYSPACE must be on or off/,
    )
    expect(usageError(() => parseCliArgs(['--reconcile-interval-ms', '0'], {}))).toMatch(
      /^--reconcile-interval-ms must be an integer from 1/,
    )
  })

  it('turns epochs off with --no-epochs or REMEM_EPOCHS=0, and leaves the default (on) otherwise', () => {
    expect(parseCliArgs(['--no-epochs'], {})).toMatchObject({ options: { epochs: false } })
    expect(parseCliArgs([], { REMEM_EPOCHS: '0' })).toMatchObject({ options: { epochs: false } })
    expect(parseCliArgs(['--epochs'], { REMEM_EPOCHS: '0' })).toMatchObject({ options: { epochs: true } })
    expect(parseCliArgs(['--no-epochs'], { REMEM_EPOCHS: '1' })).toMatchObject({ options: { epochs: false } })
    expect(parseCliArgs([], { REMEM_EPOCHS: '1' })).toMatchObject({ options: { epochs: true } })
    expect(parseCliArgs([], {})).not.toHaveProperty('options.epochs')
  })

  it('reads --ingest-lease-ms over REMEM_INGEST_LEASE_MS', () => {
    expect(parseCliArgs([], { REMEM_INGEST_LEASE_MS: '30000' })).toMatchObject({
      options: { ingestLeaseMs: 30_000 },
    })
    expect(
      parseCliArgs(['--ingest-lease-ms', '2500'], { REMEM_INGEST_LEASE_MS: '30000' }),
    ).toMatchObject({ options: { ingestLeaseMs: 2500 } })
    expect(parseCliArgs([], {})).not.toHaveProperty('options.ingestLeaseMs')
    expect(usageError(() => parseCliArgs(['--ingest-lease-ms', '0'], {}))).toMatch(
      /^--ingest-lease-ms must be an integer from 1/,
    )
    expect(usageError(() => parseCliArgs([], { REMEM_INGEST_LEASE_MS: '10s' }))).toMatch(
      /^REMEM_INGEST_LEASE_MS must be an integer/,
    )
  })

  it('reads --max-connections-per-ip and --max-messages-per-second over their variables', () => {
    expect(
      parseCliArgs(['--max-connections-per-ip', '5000', '--max-messages-per-second=20000'], {
        REMEM_MAX_CONNECTIONS_PER_IP: '1',
        REMEM_MAX_MESSAGES_PER_SECOND: '1',
      }),
    ).toMatchObject({ options: { maxConnectionsPerIp: 5000, maxMessagesPerSecond: 20_000 } })
    expect(
      parseCliArgs([], { REMEM_MAX_CONNECTIONS_PER_IP: '0', REMEM_MAX_MESSAGES_PER_SECOND: '100' }),
    ).toMatchObject({ options: { maxConnectionsPerIp: 0, maxMessagesPerSecond: 100 } })
    const defaults = parseCliArgs([], { REMEM_MAX_CONNECTIONS_PER_IP: '' })
    expect(defaults).not.toHaveProperty('options.maxConnectionsPerIp')
    expect(defaults).not.toHaveProperty('options.maxMessagesPerSecond')
  })

  it('rejects bad limits, naming the flag or the variable and the range', () => {
    expect(usageError(() => parseCliArgs(['--max-connections-per-ip', 'many'], {}))).toBe(
      '--max-connections-per-ip must be an integer from 0 to 2147483647, got "many"',
    )
    expect(usageError(() => parseCliArgs(['--max-connections-per-ip=-1'], {}))).toMatch(
      /^--max-connections-per-ip must be an integer from 0/,
    )
    expect(usageError(() => parseCliArgs(['--max-messages-per-second', '0'], {}))).toBe(
      '--max-messages-per-second must be an integer from 1 to 2147483647, got "0"',
    )
    expect(usageError(() => parseCliArgs([], { REMEM_MAX_MESSAGES_PER_SECOND: '5k' }))).toMatch(
      /^REMEM_MAX_MESSAGES_PER_SECOND must be an integer from 1/,
    )
    expect(usageError(() => parseCliArgs([], { REMEM_MAX_CONNECTIONS_PER_IP: '1.5' }))).toMatch(
      /^REMEM_MAX_CONNECTIONS_PER_IP must be an integer from 0/,
    )
    expect(usageError(() => parseCliArgs(['--max-messages-per-second'], {}))).toMatch(
      /^--max-messages-per-second needs a value/,
    )
  })

  it('turns Redis setting mistakes into usage errors', () => {
    expect(usageError(() => parseCliArgs(['--redis-tls=1'], { REDIS_HOST: 'h' }))).toMatch(
      /^--redis-tls takes no value/,
    )
    expect(usageError(() => parseCliArgs(['--redis-tls-ca', '/x.pem'], {}))).toMatch(
      /^--redis-tls-ca needs Redis/,
    )
    expect(usageError(() => parseCliArgs(['--redis', 'localhost:6379'], {}))).toMatch(
      /^--redis must be a redis:\/\/, rediss:\/\/ or unix:\/\/ URL/,
    )
  })
})

describe('remem-relay bin', () => {
  it('--help lists every flag and environment variable and exits 0', async () => {
    const { code, stdout } = await runBin(['--help'])
    expect(code).toBe(0)
    for (const text of [
      '--port',
      '--host',
      '--redis',
      '--prefix',
      '--idle-unload-ms',
      '--help',
      '--version',
      'PORT',
      'HOST',
      'REDIS_URL',
      'REDIS_HOST',
      'REDIS_PORT',
      'REDIS_USERNAME',
      'REDIS_PASSWORD',
      'REDIS_DB',
      'REDIS_PREFIX',
      'REMEM_IDLE_UNLOAD_MS',
      '--redis-tls',
      '--redis-tls-ca',
      '--redis-tls-insecure',
      '--redis-connect-timeout-ms',
      '--redis-command-timeout-ms',
      '--keyspace',
      '--reconcile-interval-ms',
      'REDIS_TLS',
      'REDIS_TLS_CA',
      'REDIS_TLS_INSECURE',
      'REDIS_CONNECT_TIMEOUT_MS',
      'REDIS_COMMAND_TIMEOUT_MS',
      'REMEM_KEYSPACE',
      'REMEM_RECONCILE_INTERVAL_MS',
      '--ingest-lease-ms',
      'REMEM_INGEST_LEASE_MS',
      '--max-connections-per-ip',
      'REMEM_MAX_CONNECTIONS_PER_IP',
      '--max-messages-per-second',
      'REMEM_MAX_MESSAGES_PER_SECOND',
      'unix://',
      'rediss://',
    ]) {
      expect(stdout).toContain(text)
    }
  })

  it('--version prints the package version', async () => {
    const { code, stdout } = await runBin(['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('a bad limit exits 2 with one line naming the flag and what to pass', async () => {
    const { code, stdout, stderr } = await runBin(['--max-messages-per-second', 'fast'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe(
      'remem-relay: --max-messages-per-second must be an integer from 1 to 2147483647, got "fast"',
    )
  })

  it('an unknown flag exits 2 with one line naming it', async () => {
    const { code, stdout, stderr } = await runBin(['--nope'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe(
      'remem-relay: unknown option --nope; run remem-relay --help for the list of options',
    )
  })
})
