import { halfWidth, NUMBER_FIELDS, unneutralised } from './values.cells.ts'

/**
 * The CSV form of yearly values, the same both ways: the value's fields, with `breakdown`
 * written as in the list filter (`category:mental,sex:female`; empty for the total). The
 * export writes exactly these columns and the import reads them, so an exported file
 * imports back unchanged. A workbook (values.xlsx.ts) has the same columns, its cells read as
 * the same text.
 */
export const CSV_COLUMNS = [
  'kind', 'planId', 'regionCode', 'indicatorCode', 'fromYear', 'year', 'breakdown', 'value', 'status',
  'numerator', 'denominator', 'asOf', 'comparator', 'binding', 'baselineYear', 'baselineValue',
  'qualitative', 'source', 'note'
] as const
export const REQUIRED_CSV_COLUMNS = ['kind', 'regionCode', 'indicatorCode', 'year']
const INTEGER_COLUMNS = new Set(['fromYear', 'year', 'baselineYear'])
const BREAKDOWN = /^(category|grade|sex|area):[a-z0-9]+(,(category|grade|sex|area):[a-z0-9]+)*$/

/** `category:mental,sex:female` → { category: 'mental', sex: 'female' }; other text is left for validation to refuse. */
function breakdownCell (text: string): unknown {
  if (!BREAKDOWN.test(text)) return text
  return Object.fromEntries(text.split(',').map((pair) => pair.split(':')))
}

const NUMBER_COLUMNS = new Set<string>(NUMBER_FIELDS)

/**
 * One CSV record → the JSON shape of a value: empty cells are absent, years are integers,
 * a cell the export kept from being run as a formula (values.cells.ts) is read back as it
 * was. Number cells stay text as written: how they read (`58,200`, `99%`) depends on the
 * indicator's unit, so the import converts them once the indicators are looked up.
 */
export function csvRecordToValue (record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [column, raw] of Object.entries(record)) {
    const cell = unneutralised(raw)
    if (cell === '' || ((INTEGER_COLUMNS.has(column) || NUMBER_COLUMNS.has(column)) && halfWidth(cell).trim() === '')) continue
    const integer = INTEGER_COLUMNS.has(column) ? halfWidth(cell).trim() : ''
    if (/^-?[0-9]{1,9}$/.test(integer)) out[column] = Number(integer)
    else if (column === 'breakdown') out[column] = breakdownCell(cell)
    else out[column] = cell
  }
  return out
}
