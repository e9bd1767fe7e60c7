import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { Command, Option } from 'commander'
import cliProgress from 'cli-progress'
import { stringify } from 'csv-stringify/sync'
import type { operations, QueryOf } from '../client/index.ts'
import { connect, integer, withConnection, type Connection, type ConnectionOptions } from './connection.ts'
import { CliError, EXIT, exitCodesHelp, paragraphs, problemError } from './exit-codes.ts'
import { writeFileAtomic } from './files.ts'
import { readPushInput, type InputFormat, type PushInput } from './push-input.ts'

type ImportSummary = operations['importValues']['responses'][200]['content']['application/json']
type RowError = ImportSummary['errors'][number]
type Mode = 'atomic' | 'partial'

export const DEFAULT_CHUNK_SIZE = 5000

interface PushOptions extends ConnectionOptions {
  mode: Mode
  dryRun: boolean
  chunkSize: number
  format?: InputFormat
  encoding?: string
  rejected?: string
  json: boolean
  progress: boolean
}

/**
 * The journal of a push in progress (FILE.push-state.json). It holds the run id that goes
 * into every chunk's Idempotency-Key, so a re-run of an interrupted push sends the same
 * keys and the server replays the chunks it already imported. It is removed when the
 * push finishes, so the next push of the same file is a new import (all `unchanged`)
 * rather than a replay of this one.
 */
interface Journal { version: 1, sha256: string, chunkSize: number, mode: Mode, runId: string, startedAt: string }

async function openJournal (file: string, input: PushInput, options: PushOptions): Promise<{ runId: string, resumed: boolean, path: string | undefined }> {
  const path = `${file}.push-state.json`
  try {
    const j = JSON.parse(await readFile(path, 'utf8')) as Journal
    if (j.version === 1 && j.sha256 === input.sha256 && j.chunkSize === options.chunkSize && j.mode === options.mode && /^[0-9a-f]{12}$/.test(j.runId)) {
      return { runId: j.runId, resumed: true, path }
    }
  } catch {}
  const journal: Journal = { version: 1, sha256: input.sha256, chunkSize: options.chunkSize, mode: options.mode, runId: randomBytes(6).toString('hex'), startedAt: new Date().toISOString() }
  try {
    await writeFileAtomic(path, JSON.stringify(journal, null, 2) + '\n')
    return { runId: journal.runId, resumed: false, path }
  } catch (err) {
    process.stderr.write(`warning: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); if this push is interrupted, a re-run sends every chunk again (safe: rows are upserted by key, but the counts will say unchanged)\n`)
    return { runId: journal.runId, resumed: false, path: undefined }
  }
}

interface Totals {
  created: number
  updated: number
  unchanged: number
  rejected: number
  /** Valid rows not written: their atomic chunk was refused, or the push stopped before them. */
  skipped: number
  replayedChunks: number
  errorsTruncated: boolean
  /** File row number (1-based data row) → its errors. */
  errors: Map<number, RowError[]>
}

const emptyTotals = (): Totals => ({ created: 0, updated: 0, unchanged: 0, rejected: 0, skipped: 0, replayedChunks: 0, errorsTruncated: false, errors: new Map() })

async function sendChunk (conn: Connection, input: PushInput, start: number, end: number, query: QueryOf<'importValues'>, key: string | undefined) {
  const { contentType, text } = input.body(start, end)
  const { data, error, response } = await conn.call((api) => api.POST('/v1/values/import', {
    params: { query, header: key !== undefined ? { 'idempotency-key': key } : {} },
    body: text,
    bodySerializer: (body) => body as string,
    headers: { 'content-type': contentType }
  }))
  const replayed = response.headers.get('idempotent-replayed') === 'true'
  if (data !== undefined) return { summary: data, refused: false, replayed }
  // An atomic chunk with bad rows: 422 IMPORT_REJECTED carrying the summary; nothing written.
  const problem = error as { code?: string, summary?: ImportSummary } | undefined
  if (response.status === 422 && problem?.code === 'IMPORT_REJECTED' && problem.summary !== undefined) {
    return { summary: problem.summary, refused: true, replayed }
  }
  if (response.status === 413) throw new CliError(EXIT.REJECTED, `rows ${start + 1}-${end}: the server refused the chunk as too large (413); use a smaller --chunk-size`)
  throw problemError(`rows ${start + 1}-${end}`, response, error)
}

/** Sends every chunk; stops at the first refused chunk when `stopOnRefusal`. */
async function pass (conn: Connection, input: PushInput, options: PushOptions, dryRun: boolean, label: string, keyOf?: (index: number, chunks: number) => string): Promise<Totals> {
  const totals = emptyTotals()
  const size = options.chunkSize
  const chunks = Math.ceil(input.rowCount / size)
  const bar = options.progress
    ? new cliProgress.SingleBar({
      format: `${label} [{bar}] {percentage}% | {value}/{total} rows | chunk {chunk}/{chunks}`,
      stream: process.stderr,
      hideCursor: true
    }, cliProgress.Presets.shades_classic)
    : undefined
  bar?.start(input.rowCount, 0, { chunk: 0, chunks })
  try {
    for (let i = 0; i < chunks; i++) {
      const start = i * size
      const end = Math.min(input.rowCount, start + size)
      const { summary, refused, replayed } = await sendChunk(conn, input, start, end, { mode: options.mode, dryRun }, keyOf?.(i, chunks))
      if (replayed) totals.replayedChunks++
      totals.rejected += summary.rejected
      totals.errorsTruncated ||= summary.errorsTruncated
      for (const e of summary.errors) {
        const row = start + e.row
        totals.errors.set(row, [...(totals.errors.get(row) ?? []), { ...e, row }]) // the file's row, not the chunk's
      }
      if (refused) {
        totals.skipped += (end - start) - summary.rejected
        if (!dryRun) {
          totals.skipped += input.rowCount - end
          bar?.update(end, { chunk: i + 1 })
          break
        }
      } else {
        totals.created += summary.created
        totals.updated += summary.updated
        totals.unchanged += summary.unchanged
      }
      bar?.update(end, { chunk: i + 1 })
    }
  } finally {
    bar?.stop()
  }
  return totals
}

function describe (e: RowError): string {
  return `${(e.field ?? '').replace(/^\//, '')} ${e.code}: ${e.message}`.trim()
}

async function writeRejected (target: string, input: PushInput, totals: Totals): Promise<void> {
  const rows = [...totals.errors.entries()].sort((a, b) => a[0] - b[0])
  if (input.format !== 'json') {
    const lines = [['row', 'errors', ...(input.header ?? [])], ...rows.map(([row, errors]) => [String(row), errors.map(describe).join('; '), ...(input.row(row - 1) as string[] ?? [])])]
    await writeFileAtomic(target, stringify(lines, { record_delimiter: '\n' }))
  } else {
    await writeFileAtomic(target, JSON.stringify(rows.map(([row, errors]) => ({ row, errors, value: input.row(row - 1) ?? null })), null, 2) + '\n')
  }
}

async function push (file: string, options: PushOptions): Promise<number> {
  const input = await readPushInput(file, options.format, options.encoding)
  const conn = connect(options)
  const chunks = Math.ceil(input.rowCount / options.chunkSize)
  // A workbook's rejected rows are listed as CSV, the form they were sent in.
  const rejectedFile = options.rejected ?? `${file}.rejected.${input.format === 'json' ? 'json' : 'csv'}`
  let totals = emptyTotals()
  let written = false
  let resumed = false

  if (options.dryRun) {
    totals = await pass(conn, input, options, true, 'checking')
  } else {
    // Atomic over the whole file, not only per chunk: a dry run of every chunk first, so a
    // bad row anywhere writes nothing at all.
    if (options.mode === 'atomic' && chunks > 1) totals = await pass(conn, input, options, true, 'checking')
    if (totals.rejected === 0) {
      const journal = await openJournal(file, input, options)
      resumed = journal.resumed
      const keyOf = (i: number, n: number) => `irp-${input.sha256.slice(0, 32)}-${journal.runId}-${options.chunkSize}-${options.mode}-${i + 1}of${n}`
      totals = await pass(conn, input, options, false, 'pushing', keyOf)
      written = true
      // Finished (also with rejected rows): the next push of this file is a new one.
      if (journal.path !== undefined) await rm(journal.path, { force: true })
    }
  }

  // The whole-file check refused it: nothing was created or updated (the counts were a dry run's).
  if (!written && !options.dryRun) totals = { ...totals, created: 0, updated: 0, unchanged: 0, skipped: input.rowCount - totals.rejected }
  if (totals.errors.size > 0) await writeRejected(rejectedFile, input, totals)
  else if (totals.rejected === 0) await rm(rejectedFile, { force: true }) // an old list would mislead

  const report = {
    file,
    format: input.format,
    rows: input.rowCount,
    chunks,
    chunkSize: options.chunkSize,
    mode: options.mode,
    dryRun: options.dryRun,
    written,
    resumed,
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    rejected: totals.rejected,
    skipped: totals.skipped,
    replayedChunks: totals.replayedChunks,
    errorsTruncated: totals.errorsTruncated,
    rejectedFile: totals.errors.size > 0 ? rejectedFile : null
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(report) + '\n')
  } else {
    const lines = [
      `${file}: ${input.rowCount} row${input.rowCount === 1 ? '' : 's'} in ${chunks} chunk${chunks === 1 ? '' : 's'} (mode ${options.mode}${options.dryRun ? ', dry run: nothing written' : ''})`,
      !written && !options.dryRun && totals.rejected > 0
        ? `  nothing written: the check of the whole file found ${totals.rejected} rejected row${totals.rejected === 1 ? '' : 's'}`
        : `  ${options.dryRun ? 'would be ' : ''}created ${totals.created}, updated ${totals.updated}, unchanged ${totals.unchanged}, rejected ${totals.rejected}`
    ]
    if (totals.skipped > 0 && written) lines.push(`  not written: ${totals.skipped} valid rows (their chunk was refused whole in atomic mode, or came after it)`)
    if (report.rejectedFile !== null) lines.push(`  rejected rows and their errors: ${report.rejectedFile}`)
    if (totals.errorsTruncated) lines.push('  (the server lists at most 1000 errors per chunk; some rejected rows are not in the file: use a smaller --chunk-size to see them all)')
    if (totals.replayedChunks > 0) lines.push(`  resumed: ${totals.replayedChunks} chunk${totals.replayedChunks === 1 ? ' was' : 's were'} already imported by the interrupted run and replayed`)
    process.stdout.write(lines.join('\n') + '\n')
  }
  return totals.rejected > 0 || totals.skipped > 0 ? EXIT.REJECTED : EXIT.OK
}

export function pushCommand (run: (fn: () => Promise<number>) => Promise<void>): Command {
  const command = new Command('push')
    .summary('upsert yearly values from a CSV, Excel (.xlsx) or JSON file')
    .description(paragraphs([
      'Upserts the values of FILE (CSV with a header row of the import columns, an Excel workbook whose first sheet has',
      'that header row, or JSON { "values": [...] } or [...])',
      'by their natural key, in chunks of --chunk-size rows (POST /v1/values/import). Each chunk carries an',
      'Idempotency-Key made of the file\'s sha256, the chunk\'s number and a run id kept in FILE.push-state.json',
      'while the push is in progress: if a push is interrupted, run the same command again and the chunks',
      'already imported are replayed, not imported twice. Pushing a file again after it finished is a new',
      'import whose rows come back unchanged.',
      '',
      'In atomic mode (the default) a file of more than one chunk is first checked whole (a dry run of every',
      'chunk), so one bad row anywhere writes nothing. In partial mode the valid rows are written. Rejected',
      'rows go to FILE.rejected.csv (or .json) with their row number and errors.',
      '',
      'A CSV may be UTF-8, UTF-16 with a BOM, or GB18030/GBK (what Excel saves on a Chinese Windows): the encoding is',
      'detected, or named with --encoding; a file valid in none of them is refused, never sent garbled. Number cells may be',
      'written as agencies write them (58,200; １２; 99% for a percent indicator; 3.5万): see docs/integration.md.'
    ]))
    .argument('<file>', 'CSV, .xlsx or JSON file of yearly values')
    .addOption(new Option('--mode <mode>', 'atomic: all rows or none; partial: the valid rows').choices(['atomic', 'partial']).default('atomic'))
    .option('--dry-run', 'check and count, write nothing', false)
    .addOption(new Option('--chunk-size <rows>', 'rows per request').argParser(integer('--chunk-size', 1, 100_000)).default(DEFAULT_CHUNK_SIZE))
    .addOption(new Option('--format <format>', 'input format (default: from the extension, else sniffed)').choices(['csv', 'json', 'xlsx']))
    .option('--encoding <charset>', 'CSV only: the file\'s encoding (utf-8, utf-16, gb18030, gbk); default: detected')
    .option('--rejected <file>', 'where to write the rejected rows (default: FILE.rejected.csv or .json)')
    .option('--json', 'print the summary as one JSON object', false)
    .option('--no-progress', 'no progress bar (it is only drawn on a terminal anyway)')
  withConnection(command)
  return command
    .addHelpText('after', `
Examples:
  $ indicator-registry push values-2025.csv
  $ indicator-registry push values-2025.csv --mode partial --chunk-size 2000
  $ indicator-registry push 2025年统计.xlsx
  $ indicator-registry push gbk-export.csv --encoding gbk
  $ REGISTRY_URL=https://registry.example.gov.cn REGISTRY_TOKEN=irt_... indicator-registry push values.json --dry-run
${exitCodesHelp}`)
    .action(async (file: string, options: PushOptions) => {
      await run(() => push(file, { ...options, progress: options.progress && process.stderr.isTTY === true }))
    })
}
