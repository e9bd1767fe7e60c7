import { readFile, rm, stat } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { Command, Option } from 'commander'
import { stringify } from 'csv-stringify/sync'
import { normaliseBaseUrl, type operations, type QueryOf } from '../client/index.ts'
import { connect, integer, withConnection, type ConnectionOptions } from './connection.ts'
import { CliError, EXIT, exitCodesHelp, paragraphs, problemError } from './exit-codes.ts'
import { appendStaged, besides, fileSink, flushStdout, outputError, write, writeFileAtomic } from './files.ts'

type Change = operations['listChanges']['responses'][200]['content']['application/json']['items'][number]

const CSV_COLUMNS = ['cursor', 'entity', 'key', 'op', 'revision', 'actor', 'at'] as const

interface PullOptions extends ConnectionOptions {
  state?: string
  after?: string
  format: 'ndjson' | 'csv'
  out?: string
  limit: number
}

/** What the state file keeps between runs: where to continue the feed from. */
interface PullState { cursor: string, url: string, savedAt: string }

async function readState (file: string): Promise<PullState | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined // first run: from the start
    throw new CliError(EXIT.USAGE, `cannot read the state file ${file}: ${(err as Error).message}`)
  }
  try {
    const state = JSON.parse(text) as PullState
    if (typeof state.cursor !== 'string') throw new Error('no cursor')
    return state
  } catch (err) {
    throw new CliError(EXIT.USAGE, `the state file ${file} is not valid (${(err as Error).message}); delete it to pull from the beginning`)
  }
}

function line (format: PullOptions['format'], change: Change): string {
  return format === 'ndjson'
    ? JSON.stringify(change) + '\n'
    : stringify([CSV_COLUMNS.map((c) => change[c])], { record_delimiter: '\n' })
}

/** Follows the feed to its end, writing every change to `out`; answers the last cursor. */
async function follow (options: PullOptions, start: string | undefined, out: Writable, header: boolean): Promise<{ cursor: string | undefined, count: number }> {
  const conn = connect(options)
  if (options.format === 'csv' && header) await write(out, stringify([[...CSV_COLUMNS]], { record_delimiter: '\n' }))
  let cursor = start
  let count = 0
  for (;;) {
    // Typed by the API's schema, without spreads: a renamed parameter fails the typecheck.
    const query: QueryOf<'listChanges'> = { limit: options.limit, after: cursor } // undefined is left out
    const { data, error, response } = await conn.call((api) => api.GET('/v1/changes', { params: { query } }))
    if (data === undefined) {
      const failure = problemError('GET /v1/changes', response, error)
      if (response.status === 400 && cursor !== undefined) failure.message += `\n  (is the cursor ${cursor} from this server? delete the state file to start over)`
      throw failure
    }
    for (const change of data.items) await write(out, line(options.format, change))
    count += data.items.length
    cursor = data.nextCursor
    if (!data.hasMore || data.items.length === 0) return { cursor, count }
  }
}

async function pull (options: PullOptions): Promise<number> {
  const url = normaliseBaseUrl(options.url)
  const state = options.state !== undefined ? await readState(options.state) : undefined
  if (state !== undefined && options.after === undefined && typeof state.url === 'string' && normaliseBaseUrl(state.url) !== url) {
    process.stderr.write(`warning: ${options.state} was saved for ${state.url}, not ${url}; continuing from its cursor\n`)
  }
  const start = options.after ?? state?.cursor

  // The output is complete before the cursor moves: a run that fails midway leaves the old
  // cursor, so the next run pulls the same changes again (at least once, never lost).
  let result: { cursor: string | undefined, count: number }
  if (options.out !== undefined) {
    // Appended, so a second run on the same day adds to the file instead of replacing
    // changes the first run already took off the feed. Staged in a file beside it first,
    // so a run that fails midway adds nothing.
    const out = options.out
    const staged = besides(out, 'part')
    try {
      const fresh = await stat(out).then((s) => s.size === 0, () => true)
      const sink = await fileSink(staged)
      try {
        result = await follow(options, start, sink.stream, fresh)
      } finally {
        await sink.close()
      }
      await appendStaged(out, staged)
    } catch (err) {
      throw outputError(out, err)
    } finally {
      await rm(staged, { force: true })
    }
  } else {
    result = await follow(options, start, process.stdout, true)
    await flushStdout()
  }

  if (options.state !== undefined && result.cursor !== undefined) {
    const next: PullState = { cursor: result.cursor, url, savedAt: new Date().toISOString() }
    await writeFileAtomic(options.state, JSON.stringify(next, null, 2) + '\n')
  }
  process.stderr.write(`${result.count} change${result.count === 1 ? '' : 's'}${options.out !== undefined ? ` written to ${options.out}` : ''}; cursor ${result.cursor ?? '(none)'}${options.state !== undefined ? ` saved in ${options.state}` : ''}\n`)
  return EXIT.OK
}

export function pullCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('pull')
    .summary('write what changed since the last pull (the changes feed)')
    .description(paragraphs([
      'Follows GET /v1/changes from the cursor saved in --state (from the beginning on the first run) to the',
      'end of the feed, writes every change (cursor, entity, key, op, revision, actor, at) as NDJSON or CSV to',
      'stdout or appends it to --out, and only then saves the new cursor in the state file. A run that fails leaves the old',
      'cursor, so the next run sends the same changes again: every change arrives at least once, none is lost.',
      'Each change names an entity (region, indicator, plan, target, value) and its key; fetch the current',
      'resource by that key (e.g. GET /v1/values/{key}) when you need its data.'
    ]))
    .option('--state <file>', 'file that keeps the cursor between runs (created on the first run)')
    .option('--after <cursor>', 'start after this cursor instead of the saved one')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .option('--out <file>', 'append to this file instead of writing to stdout (CSV: the header only when the file is new)')
    .addOption(new Option('--limit <n>', 'changes per request').argParser(integer('--limit', 1, 1000)).default(1000))
  withConnection(command)
  return command
    .addHelpText('after', `
Examples:
  $ indicator-registry pull --state sync.state --out changes.ndjson
  $ indicator-registry pull --state sync.state --format csv --out changes-$(date +%F).csv
  crontab: 30 2 * * *  cd /srv/sync && indicator-registry pull --state sync.state --out changes-$(date +\\%F).ndjson
${exitCodesHelp}`)
    .action(async (options: PullOptions) => {
      await run(() => pull(options))
    })
}
