/**
 * `remem-relay token`: prints a token for a relay that has the same secret.
 *
 *   remem-relay token --memory board --access read --expires 1h
 */
import { parseArgs } from 'node:util'

/** What `remem-relay token` was asked for. */
export interface TokenCommandOptions {
  secret: string
  memories: string[]
  access: 'read' | 'write'
  expiresIn: string | number
  subject?: string
}

export const TOKEN_USAGE = `Usage: remem-relay token --memory <name> [--memory <name>…] [options]

Prints a token (an HS256 JWT) for relays started with the same secret. Give it to a client
as createClient({ url, token }).

      --memory <name>        a memory the token opens; a pattern ending in * opens every
                             memory with that prefix (team-*), * alone every memory;
                             repeat for several
      --access read|write    what the token allows; default write
      --expires <span>       how long it is valid: seconds, or 30m, 1h, 7d; default 1h
      --subject <id>         who it is for (the JWT sub; the relay logs it)
      --secret <s>           the relay's secret (at least 32 characters)
                             env REMEM_SECRET (prefer it: arguments show in ps)
  -h, --help                 print this help and exit

Example:
  REMEM_SECRET=… remem-relay token --memory dashboard --access read --expires 1h
`

/** Parses `token`'s arguments; throws an Error whose message says what to change. */
export function parseTokenArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): TokenCommandOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      memory: { type: 'string', multiple: true },
      access: { type: 'string' },
      expires: { type: 'string' },
      subject: { type: 'string' },
      secret: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  const secret = values.secret ?? (env.REMEM_SECRET || undefined)
  if (secret === undefined)
    throw new Error("token needs the relay's secret: set REMEM_SECRET (or --secret)")
  const memories = values.memory ?? []
  if (memories.length === 0) throw new Error('token needs at least one --memory <name>')
  const access = values.access ?? 'write'
  if (access !== 'read' && access !== 'write') {
    throw new Error(`--access must be read or write, got ${JSON.stringify(access)}`)
  }
  const raw = values.expires ?? '1h'
  const expiresIn = /^\d+$/.test(raw) ? Number(raw) : raw
  if (
    typeof expiresIn === 'string' &&
    !/^\d+\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)$/i.test(raw)
  ) {
    throw new Error(
      `--expires must be seconds or a span like 30m, 1h, 7d; got ${JSON.stringify(raw)}`,
    )
  }
  return {
    secret,
    memories,
    access,
    expiresIn,
    ...(values.subject !== undefined ? { subject: values.subject } : {}),
  }
}
