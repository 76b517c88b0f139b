import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CliUsageError, parseCliArgs } from '../cliArgs.ts'
import { describeRedis, redisOptionsFromEnv } from '../redisConfig.ts'

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
    ]) {
      expect(stdout).toContain(text)
    }
  })

  it('--version prints the package version', async () => {
    const { code, stdout } = await runBin(['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
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
