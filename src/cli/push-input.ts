import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { CliError, EXIT } from './exit-codes.ts'

export type InputFormat = 'csv' | 'json'

/** A file to push, read whole: its rows, and how to turn a slice of them into a request body. */
export interface PushInput {
  format: InputFormat
  /** sha256 of the file's bytes: the push's identity (idempotency keys, resume journal). */
  sha256: string
  rowCount: number
  /** The request body (and its content type) for rows [start, end). */
  body: (start: number, end: number) => { contentType: string, text: string }
  /** Row `i` as written to the rejected-rows file. */
  row: (i: number) => unknown
  /** CSV only: the header row. */
  header?: string[]
}

function formatOf (file: string, text: string, explicit?: InputFormat): InputFormat {
  if (explicit !== undefined) return explicit
  const ext = path.extname(file).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.json') return 'json'
  return /^\s*[[{]/.test(text.replace(/^\uFEFF/, '')) ? 'json' : 'csv'
}

export async function readPushInput (file: string, explicit?: InputFormat): Promise<PushInput> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const text = bytes.toString('utf8')
  const format = formatOf(file, text, explicit)
  return format === 'csv' ? csvInput(file, text, sha256) : jsonInput(file, text, sha256)
}

function csvInput (file: string, text: string, sha256: string): PushInput {
  let records: string[][]
  try {
    records = parse(text, { bom: true, skip_empty_lines: true }) as string[][]
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${file} is not valid CSV: ${(err as Error).message}`)
  }
  const [header, ...rows] = records
  if (header === undefined) throw new CliError(EXIT.USAGE, `${file} is empty: a CSV file needs a header row (kind,regionCode,indicatorCode,year,value,...)`)
  return {
    format: 'csv',
    sha256,
    rowCount: rows.length,
    header,
    // Re-serialised from the parsed cells: the same file always gives the same bodies,
    // whatever its line ends, BOM or quoting, so a re-run's bodies match its keys.
    body: (start, end) => ({ contentType: 'text/csv', text: stringify([header, ...rows.slice(start, end)], { record_delimiter: '\n' }) }),
    row: (i) => rows[i]
  }
}

function jsonInput (file: string, text: string, sha256: string): PushInput {
  let parsed: unknown
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${file} is not valid JSON: ${(err as Error).message}`)
  }
  const rows = Array.isArray(parsed) ? parsed : (parsed as { values?: unknown } | null)?.values
  if (!Array.isArray(rows)) throw new CliError(EXIT.USAGE, `${file}: expected { "values": [...] } or an array of values`)
  return {
    format: 'json',
    sha256,
    rowCount: rows.length,
    body: (start, end) => ({ contentType: 'application/json', text: JSON.stringify({ values: rows.slice(start, end) }) }),
    row: (i) => rows[i]
  }
}
