/**
 * The CSV form of yearly values, the same both ways: the value's fields, with `breakdown`
 * written as in the list filter (`category:mental,sex:female`; empty for the total). The
 * export writes exactly these columns and the import reads them, so an exported file
 * imports back unchanged.
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

/** One CSV record → the JSON shape of a value: empty cells are absent, years are integers. */
export function csvRecordToValue (record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [column, cell] of Object.entries(record)) {
    if (cell === '') continue
    if (INTEGER_COLUMNS.has(column) && /^-?[0-9]{1,9}$/.test(cell)) out[column] = Number(cell)
    else if (column === 'breakdown') out[column] = breakdownCell(cell)
    else out[column] = cell
  }
  return out
}
