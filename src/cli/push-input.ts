import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import { stringify } from 'csv-stringify/sync'
import { ApiError } from '../errors/catalogue.ts'
import { decodeBytes, encodingOf } from '../modules/imports/imports.decode.ts'
import { readXlsxRecords } from '../modules/values/values.xlsx.ts'
import { CliError, EXIT } from './exit-codes.ts'

export type InputFormat = 'csv' | 'json' | 'xlsx'

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
  /** CSV and workbooks: the header row. */
  header?: string[]
}

/** The ZIP signature every .xlsx starts with. */
const isZip = (bytes: Buffer) => bytes[0] === 0x50 && bytes[1] === 0x4B && bytes[2] === 0x03 && bytes[3] === 0x04

function formatOf (file: string, bytes: Buffer, explicit?: InputFormat): InputFormat {
  if (explicit !== undefined) return explicit
  const ext = path.extname(file).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.json') return 'json'
  if (ext === '.xlsx' || isZip(bytes)) return 'xlsx'
  return /^\s*[[{]/.test(bytes.subarray(0, 64).toString('latin1').replace(/^\xEF\xBB\xBF/, '')) ? 'json' : 'csv'
}

/** A problem of the shared readers (decoding, cells) as a usage error naming the file. */
function fileError (file: string, err: unknown): unknown {
  if (!(err instanceof ApiError)) return err
  const where = err.errors?.[0]?.field?.replace(/^\/body\/?/, '')
  return new CliError(EXIT.USAGE, `${file}: ${err.message}${where !== undefined && where !== '' ? ` (${where})` : ''}`)
}

/**
 * Reads FILE whole. CSV is decoded as the server decodes it (UTF-8, UTF-16 with a BOM,
 * GB18030/GBK detected, or `charset` when given), so no character is replaced; a
 * workbook's first sheet is read by the server's own reader. Both are sent as UTF-8 CSV.
 */
export async function readPushInput (file: string, explicit?: InputFormat, charset?: string): Promise<PushInput> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const format = formatOf(file, bytes, explicit)
  try {
    if (format === 'json') return jsonInput(file, bytes.toString('utf8'), sha256)
    if (format === 'xlsx') return await xlsxInput(file, bytes, sha256)
    let encoding
    try {
      encoding = encodingOf(charset?.toLowerCase())
    } catch (err) {
      throw new CliError(EXIT.USAGE, (err as Error).message.replace('charset=', '--encoding '))
    }
    return csvInput(file, decodeBytes(bytes, encoding), sha256)
  } catch (err) {
    throw fileError(file, err)
  }
}

async function xlsxInput (file: string, bytes: Buffer, sha256: string): Promise<PushInput> {
  const records: string[][] = []
  try {
    await readXlsxRecords(bytes, (names) => { records.push(names); return names }, (_record, _row, cells) => { records.push(cells) })
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new CliError(EXIT.USAGE, `${file} is not a readable .xlsx workbook: ${(err as Error).message}`)
  }
  return { ...recordsInput(file, records, sha256), format: 'xlsx' }
}

function csvInput (file: string, text: string, sha256: string): PushInput {
  let records: string[][]
  try {
    records = parse(text, { bom: true, skip_empty_lines: true }) as string[][]
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${file} is not valid CSV: ${(err as Error).message}`)
  }
  return recordsInput(file, records, sha256)
}

function recordsInput (file: string, records: string[][], sha256: string): PushInput {
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
