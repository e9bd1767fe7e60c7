import type { Hash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { ApiError } from '../../errors/catalogue.ts'
import { readXlsxRecords } from '../values/values.xlsx.ts'
import { checkHeader, fileRecordToValue } from './imports.csv.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from './imports.schemas.ts'

/**
 * Reads a workbook body: its bytes are counted against the limit (413 beyond, the rest
 * drained unread) and hashed as they arrive; then the first sheet is read as CSV rows are
 * (same header, same cells). A zip is read from its directory at its end, so the body (at
 * most IMPORT_MAX_BYTES) is held whole; its sheet is then read row by row.
 */
export async function readXlsxValues (body: Readable, hash: Hash): Promise<Array<Record<string, unknown>>> {
  const chunks: Buffer[] = []
  await new Promise<void>((resolve, reject) => {
    let bytes = 0
    let refused = false
    body.on('data', (chunk: Buffer) => {
      if (refused) return // drained unread, so the connection can answer
      bytes += chunk.length
      if (bytes > IMPORT_MAX_BYTES) {
        refused = true
        chunks.length = 0
        reject(new ApiError('PAYLOAD_TOO_LARGE', `The workbook exceeds ${IMPORT_MAX_BYTES} bytes; split it into several requests.`))
        return
      }
      hash.update(chunk)
      chunks.push(chunk)
    })
    body.on('end', resolve)
    body.on('error', reject)
  })
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
