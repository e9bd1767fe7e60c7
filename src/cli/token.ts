import { Command, Option } from 'commander'
import { rootCause } from '../db/errors.ts'
import { ApiError } from '../errors/catalogue.ts'
import { newToken } from '../modules/tokens/tokens.crypto.ts'
import type { JsonBodyOf, QueryOf } from '../client/index.ts'
import { connect, withConnection, type ConnectionOptions } from './connection.ts'
import { CliError, EXIT, exitCodesHelp, paragraphs, problemError } from './exit-codes.ts'

type Role = 'reader' | 'editor' | 'admin'

interface CreateOptions extends ConnectionOptions {
  role?: Role
  name?: string
  region?: string
  expires?: string
  json: boolean
  local: boolean
  printOnly: boolean
}

interface CreatedToken { id: string, name: string, role: Role, regionCode: string | null, expiresAt: string | null, token: string }

function announce (created: CreatedToken, json: boolean, where: string): void {
  // The secret alone on stdout (TOKEN=$(indicator-registry token create ...)); the rest on stderr.
  if (json) process.stdout.write(JSON.stringify(created) + '\n')
  else process.stdout.write(created.token + '\n')
  process.stderr.write([
    `created ${created.role} token ${created.id} "${created.name}"${created.regionCode !== null ? ` for region ${created.regionCode} and below` : ''} ${where}.`,
    'It is shown this once (only a keyed hash is stored): keep it in a secret store or REGISTRY_TOKEN.',
    ''
  ].join('\n'))
}

async function createLocally (options: CreateOptions): Promise<number> {
  const role = options.role ?? 'admin'
  const name = options.name ?? `${role} (token create --local)`
  // Loaded here only: the database drivers are not needed by any other command.
  const { openLocalDatabase } = await import('./local-database.ts')
  const { createTokensService } = await import('../modules/tokens/tokens.service.ts')
  const { database, config } = await openLocalDatabase()
  try {
    const tokens = createTokensService(database.db, { pepper: config.TOKEN_PEPPER })
    const { row, token } = await tokens.create({ actor: 'bootstrap' }, { name, role, regionCode: options.region ?? null, expiresAt: options.expires ?? null })
    announce({ id: row.id, name: row.name, role: row.role, regionCode: row.regionCode, expiresAt: row.expiresAt?.toISOString() ?? null, token }, options.json,
      `in the ${config.DATABASE_URL !== undefined ? 'database at DATABASE_URL' : `embedded database in ${config.DATA_DIR}`}`)
    return EXIT.OK
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(EXIT.REJECTED, `${err.code}: ${err.message}`)
    if ((rootCause(err) as { code?: string }).code === '23503') throw new CliError(EXIT.REJECTED, `region ${options.region ?? ''} does not exist in this database`)
    throw err
  } finally {
    await database.close()
  }
}

async function createViaApi (options: CreateOptions): Promise<number> {
  if (options.role === undefined || options.name === undefined) {
    throw new CliError(EXIT.USAGE, 'token create needs --role and --name (or --local for the first admin token of a fresh install)')
  }
  const conn = connect({ ...options, retries: 0 }) // creating is not idempotent: never retried
  // Typed by the API's schema, without spreads: a renamed field fails the typecheck.
  const body: JsonBodyOf<'createToken'> = { name: options.name, role: options.role, regionCode: options.region, expiresAt: options.expires }
  const { data, error, response } = await conn.call((api) => api.POST('/v1/tokens', { body }))
  if (data === undefined) throw problemError('POST /v1/tokens', response, error)
  announce(data, options.json, `on ${conn.url}`)
  return EXIT.OK
}

function tokenCreateCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('create')
    .summary('create an access token (shown once)')
    .description(paragraphs([
      'Creates a reader, editor (scoped to --region and the regions below it) or admin token and prints the',
      'secret on stdout, alone on its line (details go to stderr). Through the API this needs an admin token',
      '(--token or REGISTRY_TOKEN).',
      '',
      '--local creates it in the database directly, without the API: for the FIRST admin token of a fresh',
      'install (npm run token:create). It opens DATABASE_URL, or else the embedded database in DATA_DIR',
      '(default ./data; the server must be stopped, since the embedded database serves one process), the',
      'same settings the server reads. With --local the role defaults to admin.',
      '',
      '--print-only prints a new random token and stores nothing: start the server with',
      'BOOTSTRAP_ADMIN_TOKEN=<it> to register it as an admin token (for containers).'
    ]))
    .addOption(new Option('--role <role>', 'what the token may do').choices(['reader', 'editor', 'admin']))
    .option('--name <name>', 'what the token is for, e.g. "嵊州市残联 nightly sync"')
    .option('--region <code>', 'editor tokens: the region it may write (and everything below it)')
    .option('--expires <date-time>', 'when it stops working, e.g. 2027-01-01T00:00:00Z (default: never)')
    .option('--json', 'print the created token as JSON (id, name, role, regionCode, ..., token)', false)
    .option('--local', 'write to the database directly (first admin of a fresh install)', false)
    .option('--print-only', 'print a new token for BOOTSTRAP_ADMIN_TOKEN; store nothing', false)
  withConnection(command, { retries: 0 })
  return command
    .addHelpText('after', `
Examples:
  $ npm run token:create                                   # first admin, server stopped
  $ indicator-registry token create --local --name "ops admin"
  $ indicator-registry token create --role editor --region 330683 --name "嵊州市残联 nightly sync"
${exitCodesHelp}`)
    .action(async (options: CreateOptions) => {
      await run(async () => {
        if (options.printOnly) {
          process.stdout.write(newToken().token + '\n')
          process.stderr.write('not stored anywhere: start the server with BOOTSTRAP_ADMIN_TOKEN set to it to make it an admin token\n')
          return EXIT.OK
        }
        return options.local ? createLocally(options) : createViaApi(options)
      })
    })
}

function tokenListCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('list')
    .summary('list access tokens (admin), without secrets')
    .option('--json', 'one JSON object per line', false)
  withConnection(command)
  return command
    .addHelpText('after', exitCodesHelp)
    .action(async (options: ConnectionOptions & { json: boolean }) => {
      await run(async () => {
        const conn = connect(options)
        let cursor: string | undefined
        do {
          const query: QueryOf<'listTokens'> = { limit: 1000, cursor }
          const { data, error, response } = await conn.call((api) => api.GET('/v1/tokens', { params: { query } }))
          if (data === undefined) throw problemError('GET /v1/tokens', response, error)
          for (const t of data.items) {
            process.stdout.write(options.json
              ? JSON.stringify(t) + '\n'
              : [t.id, t.role.padEnd(6), t.regionCode ?? '-', t.revokedAt !== null ? 'revoked' : 'active', t.name].join('\t') + '\n')
          }
          cursor = data.nextCursor ?? undefined
        } while (cursor !== undefined)
        return EXIT.OK
      })
    })
}

function tokenRevokeCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('revoke')
    .summary('revoke an access token (admin); it stops working at once')
    .argument('<id>', 'the token id (12 hex digits: the part after irt_)')
  withConnection(command)
  return command
    .addHelpText('after', exitCodesHelp)
    .action(async (id: string, options: ConnectionOptions) => {
      await run(async () => {
        const tokenId = /^irt_([0-9a-f]{12})_/.exec(id)?.[1] ?? id
        if (!/^[0-9a-f]{12}$/.test(tokenId)) throw new CliError(EXIT.USAGE, `${id} is not a token id (12 hex digits)`)
        const conn = connect(options)
        const { error, response } = await conn.call((api) => api.DELETE('/v1/tokens/{id}', { params: { path: { id: tokenId } } }))
        if (!response.ok) throw problemError(`DELETE /v1/tokens/${tokenId}`, response, error)
        process.stderr.write(`revoked token ${tokenId}\n`)
        return EXIT.OK
      })
    })
}

export function tokenCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  return new Command('token')
    .summary('create, list and revoke access tokens')
    .addCommand(tokenCreateCommand(run))
    .addCommand(tokenListCommand(run))
    .addCommand(tokenRevokeCommand(run))
    .addHelpText('after', exitCodesHelp)
}
