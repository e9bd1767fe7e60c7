import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { Command, Option } from 'commander'
import type { QueryOf } from '../client/index.ts'
import { connect, integer, withConnection, type ConnectionOptions } from './connection.ts'
import { CliError, EXIT, exitCodesHelp, paragraphs, problemError } from './exit-codes.ts'
import { fileSink, flushStdout, outputError, withAtomicFile } from './files.ts'

interface ExportOptions extends ConnectionOptions {
  region?: string
  indicator?: string
  kind?: 'actual' | 'target'
  plan?: string
  from?: number
  to?: number
  includeDescendants: boolean
  breakdown?: string
  status?: 'provisional' | 'final' | 'estimated'
  format?: 'csv' | 'xlsx'
  bom: boolean
  out?: string
}

async function exportValues (options: ExportOptions): Promise<number> {
  const conn = connect(options)
  const format = options.format ?? (options.out !== undefined && path.extname(options.out).toLowerCase() === '.xlsx' ? 'xlsx' : 'csv')
  if (options.bom && format !== 'csv') throw new CliError(EXIT.USAGE, '--bom applies to CSV only')
  // Typed by the API's schema, without spreads: a renamed filter fails the typecheck.
  // Unset options are undefined, which the client leaves out of the query string.
  const query: QueryOf<'listValues'> = {
    format,
    bom: options.bom ? true : undefined,
    region: options.region,
    includeDescendants: options.includeDescendants ? true : undefined,
    indicator: options.indicator,
    kind: options.kind,
    plan: options.plan,
    from: options.from,
    to: options.to,
    breakdown: options.breakdown,
    status: options.status
  }
  if (options.includeDescendants && options.region === undefined) throw new CliError(EXIT.USAGE, '--include-descendants needs --region')
  const { data, error, response } = await conn.call((api) => api.GET('/v1/values', { params: { query }, parseAs: 'stream' }))
  if (data === undefined || data === null) throw problemError('GET /v1/values', response, error)
  const body = Readable.fromWeb(data as unknown as WebReadableStream<Uint8Array>)
  let bytes = 0
  let broken = false
  body.on('error', () => { broken = true })
  // Counted on the way through (a 'data' listener would start the flow before the sink is open).
  const meter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      callback(null, chunk)
    }
  })
  try {
    if (options.out !== undefined) {
      await withAtomicFile(options.out, async (tmp) => {
        const sink = await fileSink(tmp)
        try {
          await pipeline(body, meter, sink.stream, { end: false })
        } finally {
          await sink.close()
        }
      })
    } else {
      await pipeline(body, meter, process.stdout, { end: false })
      await flushStdout()
    }
  } catch (err) {
    // The answer broke off midway (the server went away): the output is incomplete
    // (with --out, the old file is left as it was).
    if (broken) throw new CliError(EXIT.UNAVAILABLE, `the export broke off after ${bytes} bytes: ${(err as Error).message}`)
    throw options.out !== undefined ? outputError(options.out, err) : err
  }
  process.stderr.write(`exported ${bytes} bytes of ${format === 'csv' ? 'CSV' : 'Excel workbook'}${options.out !== undefined ? ` to ${options.out}` : ''}\n`)
  return EXIT.OK
}

export function exportCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('export')
    .summary('write yearly values as CSV or an Excel workbook (the columns push accepts)')
    .description(paragraphs([
      'Streams the values matching the filters as CSV (GET /v1/values?format=csv), with the columns that',
      'push and POST /v1/values/import accept, so an export can be pushed back unchanged. Without --out the',
      'CSV goes to stdout; with --out the file is replaced only once the whole export has arrived.',
      '',
      'With --format xlsx (the default for an --out file ending in .xlsx) the export is an Excel workbook',
      '(GET /v1/values?format=xlsx) that push takes back the same way. The CSV is UTF-8; --bom starts it with a',
      'byte order mark so that Excel on a Chinese Windows opens it right. Text cells that a spreadsheet would',
      'run as formulas (starting with = + - @) carry a leading apostrophe, which push removes again.'
    ]))
    .option('--region <code>', 'region code, e.g. 330683')
    .option('--include-descendants', 'with --region: also every region below it', false)
    .option('--indicator <code>', 'indicator code, e.g. new-employment')
    .addOption(new Option('--kind <kind>', 'actuals or targets').choices(['actual', 'target']))
    .option('--plan <id>', 'targets of this plan')
    .addOption(new Option('--from <year>', 'periods starting in or after this year').argParser(integer('--from', 1949, 2100)))
    .addOption(new Option('--to <year>', 'periods ending in or before this year').argParser(integer('--to', 1949, 2100)))
    .option('--breakdown <breakdown>', "'category:mental,sex:female', 'total' (the default) or '*' for every breakdown")
    .addOption(new Option('--status <status>', 'actuals of this status').choices(['provisional', 'final', 'estimated']))
    .addOption(new Option('--format <format>', 'csv, or xlsx for an Excel workbook (default: from the --out extension, else csv)').choices(['csv', 'xlsx']))
    .option('--bom', 'CSV: start with a UTF-8 byte order mark (for Excel)', false)
    .option('--out <file>', 'write to this file instead of stdout')
  withConnection(command)
  return command
    .addHelpText('after', `
Examples:
  $ indicator-registry export --region 330683 --include-descendants --from 2021 --to 2025 --out shengzhou.csv
  $ indicator-registry export --plan huangyan-disability-14th-fyp --kind target --breakdown '*'
  $ indicator-registry export --region 330683 --include-descendants --out 嵊州市.xlsx
${exitCodesHelp}`)
    .action(async (options: ExportOptions) => {
      await run(() => exportValues(options))
    })
}
