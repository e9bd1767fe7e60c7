import type { Hash } from 'node:crypto'
import { Transform, type Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { ApiError } from '../../errors/catalogue.ts'
import { badTextColumn } from '../values/values.cells.ts'
import { CSV_COLUMNS, csvRecordToValue, REQUIRED_CSV_COLUMNS } from '../values/values.csv.ts'
import { decodingStream, type Encoding } from './imports.decode.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from './imports.schemas.ts'

/** The header row of a file (CSV or workbook): the import's columns, the required ones present; 400 otherwise. */
export function checkHeader (header: string[]): string[] {
  const names = header.map((h) => h.trim())
  const unknown = names.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h))
  const missing = REQUIRED_CSV_COLUMNS.filter((r) => !names.includes(r))
  if (unknown.length > 0 || missing.length > 0) {
    throw new ApiError('VALIDATION_FAILED', 'The header row is not valid; see errors.', {
      errors: [
        ...unknown.map((u) => ({ field: `/header/${u}`, code: 'unknown-column', message: `is not a column; allowed: ${CSV_COLUMNS.join(', ')}` })),
        ...missing.map((m) => ({ field: `/header/${m}`, code: 'required', message: 'is a required column' }))
      ]
    })
  }
  return names
}

/**
 * One data row of a file (`row`: 1-based, after the header) as a value to import. A NUL or
 * an unpaired surrogate refuses the whole request (400), as in a JSON body.
 */
export function fileRecordToValue (record: Record<string, string>, row: number): Record<string, unknown> {
  const column = badTextColumn(record)
  if (column !== undefined) {
    throw new ApiError('VALIDATION_FAILED', 'Text may not contain NUL characters or unpaired surrogates.', {
      errors: [{ field: `/body/${row}/${column}`, code: 'text', message: `row ${row}: contains a NUL character or an unpaired surrogate` }]
    })
  }
  return csvRecordToValue(record)
}

/** Counts a body's bytes against the limit (413 beyond) and feeds them, as sent, to `hash`. */
export function byteMeter (hash: Hash, format: string): Transform {
  let bytes = 0
  return new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      if (bytes > IMPORT_MAX_BYTES) {
        callback(new ApiError('PAYLOAD_TOO_LARGE', `The ${format} body exceeds ${IMPORT_MAX_BYTES} bytes; split it into several requests.`))
        return
      }
      hash.update(chunk)
      callback(null, chunk)
    }
  })
}

/**
 * Parses a CSV body as a stream (the text is never held whole): counts bytes and rows
 * against the limits (413 beyond), feeds every byte as sent to `hash`, decodes the text
 * (imports.decode.ts: `declared` is the charset named by the request, else detected) and
 * checks the header.
 */
export async function readCsvValues (body: Readable, hash: Hash, declared?: Encoding): Promise<Array<Record<string, unknown>>> {
  const meter = byteMeter(hash, 'CSV')
  const parser = parse({
    bom: true,
    columns: checkHeader,
    skip_empty_lines: true,
    max_record_size: 64 * 1024
  })
  const decoder = decodingStream(declared)
  body.on('error', (err) => meter.destroy(err))
  meter.on('error', (err) => decoder.destroy(err))
  decoder.on('error', (err) => parser.destroy(err))
  body.pipe(meter).pipe(decoder).pipe(parser)

  const rows: Array<Record<string, unknown>> = []
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      if (rows.length >= IMPORT_MAX_ROWS) {
        throw new ApiError('PAYLOAD_TOO_LARGE', `The CSV body has more than ${IMPORT_MAX_ROWS} rows; split it into several requests.`)
      }
      rows.push(fileRecordToValue(record, rows.length + 1))
    }
  } catch (err) {
    body.unpipe()
    body.resume() // drain what is left so the connection can answer
    if (err instanceof ApiError) throw err
    const message = err instanceof Error ? err.message : 'unreadable'
    throw new ApiError('VALIDATION_FAILED', `The CSV body cannot be parsed: ${message.replace(/\s+/g, ' ').slice(0, 200)}`, {
      errors: [{ field: '/body', code: 'csv', message: 'not valid CSV' }]
    })
  }
  return rows
}
