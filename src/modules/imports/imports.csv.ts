import type { Hash } from 'node:crypto'
import { Transform, type Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { ApiError } from '../../errors/catalogue.ts'
import { CSV_COLUMNS, csvRecordToValue, REQUIRED_CSV_COLUMNS } from '../values/values.csv.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from './imports.schemas.ts'

/**
 * Parses a CSV body as a stream (the text is never held whole): counts bytes and rows
 * against the limits (413 beyond), checks the header, feeds every byte to `hash`.
 */
export async function readCsvValues (body: Readable, hash: Hash): Promise<Array<Record<string, unknown>>> {
  let bytes = 0
  const meter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      if (bytes > IMPORT_MAX_BYTES) {
        callback(new ApiError('PAYLOAD_TOO_LARGE', `The CSV body exceeds ${IMPORT_MAX_BYTES} bytes; split it into several requests.`))
        return
      }
      hash.update(chunk)
      callback(null, chunk)
    }
  })
  const parser = parse({
    bom: true,
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim())
      const unknown = names.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h))
      const missing = REQUIRED_CSV_COLUMNS.filter((r) => !names.includes(r))
      if (unknown.length > 0 || missing.length > 0) {
        throw new ApiError('VALIDATION_FAILED', 'The CSV header is not valid; see errors.', {
          errors: [
            ...unknown.map((u) => ({ field: `/header/${u}`, code: 'unknown-column', message: `is not a column; allowed: ${CSV_COLUMNS.join(', ')}` })),
            ...missing.map((m) => ({ field: `/header/${m}`, code: 'required', message: 'is a required column' }))
          ]
        })
      }
      return names
    },
    skip_empty_lines: true,
    max_record_size: 64 * 1024
  })
  body.on('error', (err) => meter.destroy(err))
  meter.on('error', (err) => parser.destroy(err))
  body.pipe(meter).pipe(parser)

  const rows: Array<Record<string, unknown>> = []
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      if (rows.length >= IMPORT_MAX_ROWS) {
        throw new ApiError('PAYLOAD_TOO_LARGE', `The CSV body has more than ${IMPORT_MAX_ROWS} rows; split it into several requests.`)
      }
      rows.push(csvRecordToValue(record))
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
