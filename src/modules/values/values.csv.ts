import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import { CSV_COLUMNS } from '../imports/imports.csv.ts'
import type { ValueFilter, ValuesRepository } from './values.repository.ts'
import type { ValueRow } from './values.rules.ts'

const EXPORT_BATCH = 1000

/** A breakdown as the list filter and the CSV import write it: `category:mental,sex:female`. */
export function breakdownText (row: Pick<ValueRow, 'category' | 'grade' | 'sex' | 'area'>): string {
  return (['category', 'grade', 'sex', 'area'] as const).flatMap((d) => (row[d] !== null ? [`${d}:${row[d]}`] : [])).join(',')
}

// RFC 4180 as csv-stringify writes it (its defaults, which the import reads back): a field
// is quoted when it holds a comma, a quote or a line break, quotes doubled; null is empty.
// The PostgreSQL export computes the same in SQL (values.repository.ts EXPORT_COLUMNS).
const NEEDS_QUOTES = /[",\n\r]/
function csvField (value: string | null): string {
  if (value === null) return ''
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

/** One record as a CSV line, without its line end. */
export function csvLine (fields: Array<string | null>): string {
  return fields.map(csvField).join(',')
}

/**
 * Every value matching the filter as CSV, streamed as the client reads (backpressure), so
 * memory stays flat whatever the size. The columns are exactly those the import accepts:
 * an export imports back unchanged. On PostgreSQL the database writes the CSV (COPY); on
 * PGlite it is written here from keyset pages. Either way the stream ends the read when
 * it is destroyed (the client went away).
 */
export async function valuesCsv (repo: ValuesRepository, filter: Omit<ValueFilter, 'after' | 'limit'>): Promise<Readable> {
  const copied = await repo.exportCsv(filter)
  if (copied !== undefined) return copied
  async function * text () {
    yield stringify([], { header: true, columns: [...CSV_COLUMNS] })
    for await (const lines of repo.exportLines(filter, EXPORT_BATCH)) yield lines.join('\n') + '\n'
  }
  return Readable.from(text(), { objectMode: false })
}
