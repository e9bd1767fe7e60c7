import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import { CSV_COLUMNS } from '../imports/imports.csv.ts'
import type { ValueFilter, ValuesRepository } from './values.repository.ts'
import type { ValueRow } from './values.rules.ts'

const EXPORT_BATCH = 2000

/** A breakdown as the list filter and the CSV import write it: `category:mental,sex:female`. */
export function breakdownText (row: Pick<ValueRow, 'category' | 'grade' | 'sex' | 'area'>): string {
  return (['category', 'grade', 'sex', 'area'] as const).flatMap((d) => (row[d] !== null ? [`${d}:${row[d]}`] : [])).join(',')
}

function csvRecord (row: ValueRow): Record<string, string | number | null> {
  return {
    kind: row.kind,
    planId: row.planId,
    regionCode: row.regionCode,
    indicatorCode: row.indicatorCode,
    fromYear: row.fromYear,
    year: row.year,
    breakdown: breakdownText(row),
    value: row.value,
    status: row.status,
    numerator: row.numerator,
    denominator: row.denominator,
    asOf: row.asOf,
    comparator: row.comparator,
    binding: row.binding,
    baselineYear: row.baselineYear,
    baselineValue: row.baselineValue,
    qualitative: row.qualitative,
    source: row.source,
    note: row.note
  }
}

/**
 * Every value matching the filter as CSV, read in keyset batches and written as the
 * client reads (backpressure), so memory stays flat whatever the size. The columns are
 * exactly those the import accepts: an export imports back unchanged.
 */
export function valuesCsv (repo: ValuesRepository, filter: Omit<ValueFilter, 'after' | 'limit'>): Readable {
  async function * rows () {
    let after: [number, number] | undefined
    for (;;) {
      const batch = await repo.list({ ...filter, after, limit: EXPORT_BATCH })
      for (const row of batch.slice(0, EXPORT_BATCH)) yield csvRecord(row)
      if (batch.length <= EXPORT_BATCH) return
      const last = batch[EXPORT_BATCH - 1]!
      after = [last.year, last.id]
    }
  }
  return Readable.from(rows()).pipe(stringify({ header: true, columns: [...CSV_COLUMNS], bom: false }))
}
