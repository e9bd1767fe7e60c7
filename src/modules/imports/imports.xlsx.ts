import type { Hash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApiError } from '../../errors/catalogue.ts'
import { readXlsxRecords } from '../values/values.xlsx.ts'
import { byteMeter, checkHeader, fileRecordToValue } from './imports.csv.ts'
import { IMPORT_MAX_ROWS } from './imports.schemas.ts'

/**
 * Reads a workbook body: its bytes are counted against the limit and hashed as they
 * arrive, then the first sheet is read as CSV rows are (same header, same cells). A zip
 * is read from its directory at the end, so the body (at most IMPORT_MAX_BYTES) is held
 * whole; its sheet is then read row by row.
 */
export async function readXlsxValues (body: Readable, hash: Hash): Promise<Array<Record<string, unknown>>> {
  const chunks: Buffer[] = []
  try {
    await pipeline(body, byteMeter(hash, 'workbook'), async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) chunks.push(chunk)
    })
  } catch (err) {
    body.resume() // drain what is left so the connection can answer
    throw err
  }
  const rows: Array<Record<string, unknown>> = []
  try {
    await readXlsxRecords(Buffer.concat(chunks), checkHeader, (record, row) => {
      if (row > IMPORT_MAX_ROWS) throw new ApiError('PAYLOAD_TOO_LARGE', `The workbook has more than ${IMPORT_MAX_ROWS} rows; split it into several requests.`)
      rows.push(fileRecordToValue(record, row))
    })
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new ApiError('VALIDATION_FAILED', 'The body is not a readable .xlsx workbook (save it from Excel as "Excel Workbook (*.xlsx)").', {
      errors: [{ field: '/body', code: 'xlsx', message: 'not a readable .xlsx workbook' }]
    })
  }
  return rows
}
