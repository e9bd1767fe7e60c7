import { Readable } from 'node:stream'
import type ExcelJS from 'exceljs'
import { ApiError } from '../../errors/catalogue.ts'
import { CSV_COLUMNS } from './values.csv.ts'

/**
 * Yearly values as an Excel workbook (.xlsx): the cell rules both ways, and the reading
 * (exceljs's streaming reader) of the first sheet, with the CSV form's header row and
 * columns (values.csv.ts), each cell read as the text the same cell has in CSV. So a
 * workbook goes through the same reading of cells, the same checks and the same
 * neutralised formulas as a CSV file. The export's workbook is written by
 * values.workbook.ts with the same rules, so it imports back unchanged.
 */

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** A spreadsheet keeps 15 significant digits; a number with more cannot be what was typed. */
const MAX_DIGITS = 15

/** Plain decimal text of `n` (the shortest text that reads back as n), times 10^shift, exactly; undefined beyond 15 significant digits. */
export function numberText (n: number, shift = 0): string | undefined {
  if (!Number.isFinite(n)) return undefined
  const [mantissa = '', exp = '0'] = String(n).split('e')
  const negative = mantissa.startsWith('-')
  const [int = '', frac = ''] = mantissa.replace('-', '').split('.')
  const digits = int + frac
  if (digits.replace(/^0+/, '').replace(/0+$/, '').length > MAX_DIGITS) return undefined
  let point = int.length + Number(exp) + shift
  let all = digits
  if (point <= 0) { all = '0'.repeat(1 - point) + all; point = 1 }
  if (point > all.length) all = all.padEnd(point, '0')
  const whole = all.slice(0, point).replace(/^0+(?=[0-9])/, '')
  const rest = all.slice(point).replace(/0+$/, '')
  const text = rest === '' ? whole : `${whole}.${rest}`
  return negative && text !== '0' ? `-${text}` : text
}

/**
 * Text in a workbook is XML, which cannot hold most control characters and reads CR LF
 * as LF: OOXML writes such a character as `_xHHHH_` (and a literal `_xHHHH_` as
 * `_x005F_xHHHH_`), as Excel does. exceljs leaves both to its caller.
 */
// eslint-disable-next-line no-control-regex -- the control characters are the point
export const UNWRITABLE = /[\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)/g
export const xstring = (text: string) => text.replace(UNWRITABLE, (c) => `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`)
const unxstring = (text: string) => text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))

const pad = (n: number) => String(n).padStart(2, '0')

function refuse (row: number, column: string, message: string): never {
  throw new ApiError('VALIDATION_FAILED', `Row ${row}, ${column}: ${message}.`, {
    errors: [{ field: `/body/${row}/${column}`, code: 'cell', message }]
  })
}

/**
 * A cell as the text the same cell has in CSV: text as is; a number as its shortest exact
 * decimal (0.1 is "0.1"), a percent-formatted one as that number of percent (0.99 shown as
 * 99% is "99%"); a date as YYYY-MM-DD; a formula as its saved result. What cannot be read
 * exactly refuses the request, naming the cell.
 */
function cellText (cell: ExcelJS.Cell, row: number, column: string): string {
  const value = cell.value as unknown
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return unxstring(value)
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'number') {
    const percent = (cell.numFmt ?? '').includes('%')
    const text = numberText(value, percent ? 2 : 0)
    if (text === undefined) refuse(row, column, `the number ${value} has more digits than a spreadsheet keeps exactly (15); format the cell as text and type the number`)
    return percent ? `${text}%` : text
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) refuse(row, column, 'is not a valid date')
    return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`
  }
  const v = value as { richText?: Array<{ text: string }>, formula?: string, sharedFormula?: string, result?: unknown, error?: string, text?: unknown }
  if (v.richText !== undefined) return unxstring(v.richText.map((r) => r.text).join(''))
  if (v.formula !== undefined || v.sharedFormula !== undefined) {
    if (v.result === undefined || v.result === null) refuse(row, column, 'is a formula without a saved result; paste it as values')
    return cellText({ value: v.result, numFmt: cell.numFmt } as unknown as ExcelJS.Cell, row, column)
  }
  if (v.error !== undefined) refuse(row, column, `holds the spreadsheet error ${v.error}`)
  if (typeof v.text === 'string') return unxstring(v.text) // a hyperlink's text
  return refuse(row, column, 'cannot be read')
}

/**
 * The first sheet of a workbook as records (column → cell text), after `header` checked
 * its header row. Empty rows are skipped, as in CSV. `onRecord` takes each record with
 * its 1-based data row number and its cells in column order (and may throw to stop).
 */
export async function readXlsxRecords (bytes: Buffer, header: (names: string[]) => string[], onRecord: (record: Record<string, string>, row: number, cells: string[]) => void): Promise<void> {
  // Loaded at the first workbook read: exceljs and its dependencies are a third of the
  // service's code, which every start would otherwise parse.
  const { default: Excel } = await import('exceljs')
  const reader = new Excel.stream.xlsx.WorkbookReader(Readable.from([bytes]), { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' })
  let names: string[] | undefined
  let count = 0
  // The first sheet only: the loop ends after it.
  // eslint-disable-next-line no-unreachable-loop -- a reader yields its sheets only through iteration
  for await (const sheet of reader) {
    for await (const line of sheet) {
      const width = names?.length ?? line.cellCount
      const texts: string[] = []
      for (let c = 1; c <= width; c++) texts.push(cellText(line.getCell(c), count + 1, names?.[c - 1] ?? `column ${c}`))
      if (texts.every((t) => t === '')) continue
      if (names === undefined) {
        while (texts.at(-1) === '') texts.pop()
        names = header(texts)
        continue
      }
      count++
      onRecord(Object.fromEntries(names.map((n, i) => [n, texts[i] ?? ''])), count, texts)
    }
    break // the first sheet only
  }
  if (names === undefined) {
    throw new ApiError('VALIDATION_FAILED', 'The workbook\'s first sheet has no header row.', {
      errors: [{ field: '/header', code: 'required', message: `the first row names the columns: ${CSV_COLUMNS.join(', ')}` }]
    })
  }
}
