/**
 * Cells of a file (CSV or workbook) as agencies write them, turned into the exact text a
 * JSON body would carry. A JSON body stays strict (a number or a decimal string); a file
 * is typed by clerks in spreadsheets, so its number cells are read as people write
 * numbers, with exact string arithmetic (never a float), or refused with a message that
 * says what to write instead.
 */

/** The number fields of a value: the cells the number rules below apply to. */
export const NUMBER_FIELDS = ['value', 'numerator', 'denominator', 'baselineValue'] as const
/** Of those, the ones in the indicator's unit (`99%` can only mean a percent indicator's value). */
const UNIT_FIELDS = new Set<string>(['value', 'baselineValue'])

/**
 * Full-width forms (what a Chinese input method types) as ASCII: digits, point, comma,
 * percent and signs; the ideographic space counts as a space.
 */
export function halfWidth (text: string): string {
  return text.replace(/[\uFF10-\uFF19\uFF0E\uFF0C\uFF05\uFF0D\uFF0B\u3000]/g, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xFEE0)))
}

/** `digits` (no sign, point optional) times 10^shift, exactly, without superfluous zeros. */
function shifted (digits: string, shift: number): string {
  const [int = '', frac = ''] = digits.split('.')
  const all = int + frac.padEnd(shift, '0')
  const point = int.length + shift
  let whole = all.slice(0, point).replace(/^0+(?=[0-9])/, '')
  let rest = all.slice(point).replace(/0+$/, '')
  if (whole === '') whole = '0'
  if (shift === 0) rest = frac // a written fraction is kept as written (98.50 stays 98.50)
  return rest === '' ? whole : `${whole}.${rest}`
}

const MULTIPLIERS: Record<string, number> = { 万: 4, 亿: 8 }
const PLAIN = /^[0-9]+(\.[0-9]+)?$/
const GROUPED = /^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$/

export type CellNumber = { text: string } | { message: string }

/**
 * One number cell → the decimal text to check, or a message for the clerk. The rules
 * (documented in the import route and docs/integration.md):
 * - spaces around the number (also full-width and no-break spaces) are ignored;
 * - full-width digits, point, comma, percent and minus are read as their ASCII forms;
 * - a comma must separate groups of three digits (`58,200`); a comma elsewhere is refused,
 *   since `58,2` could be a decimal comma;
 * - a trailing `%` is accepted only for the value (or baseline) of a percent indicator,
 *   whose values are percentages already: `99%` is 99;
 * - a trailing `万` (10^4) or `亿` (10^8) multiplies exactly (`3.5万` is 35000), except for
 *   an indicator counted in 万元, where it could mean either;
 * - anything else is refused.
 * `unit` is the indicator's unit, undefined when the indicator is unknown (its own check
 * then refuses the row).
 */
export function numberCell (cell: string, field: string, unit: string | undefined): CellNumber {
  let s = halfWidth(cell).trim()
  let shift = 0
  if (s.endsWith('%')) {
    if (!UNIT_FIELDS.has(field) || (unit !== undefined && unit !== 'percent')) {
      return { message: `"${cell}" is a percentage, but ${field} ${UNIT_FIELDS.has(field) ? `is counted in ${unit ?? 'the indicator\'s unit'}` : 'is a count'}: write the number itself` }
    }
    s = s.slice(0, -1).trimEnd()
  } else if (MULTIPLIERS[s.slice(-1)] !== undefined) {
    if (unit === 'cny-10k' && UNIT_FIELDS.has(field)) return { message: `"${cell}": the indicator is counted in 万元 already; write the number of 万元 without 万 or 亿` }
    shift = MULTIPLIERS[s.slice(-1)]!
    s = s.slice(0, -1).trimEnd()
  }
  const negative = s.startsWith('-')
  const digits = negative ? s.slice(1) : s
  if (GROUPED.test(digits)) return { text: (negative ? '-' : '') + shifted(digits.replaceAll(',', ''), shift) }
  if (PLAIN.test(digits)) return { text: (negative ? '-' : '') + shifted(digits, shift) }
  if (digits.includes(',')) return { message: `"${cell}": a comma may only separate groups of three digits (58,200); write decimals with a point (98.5)` }
  return { message: `"${cell}" is not a number: write digits with an optional decimal point, e.g. 58200, 98.5, 3.5万 or 58,200` }
}

/**
 * The first characters that make a spreadsheet read a cell as a formula (OWASP "CSV
 * injection"), and the apostrophe that marks a cell as kept from that.
 */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\''])

/**
 * A text cell as exported: one starting with a formula character (or an apostrophe) gets
 * a leading apostrophe, so a spreadsheet shows it as text. Number cells are never passed
 * here: `-5` in a number column is a number.
 */
export function neutralised (text: string): string {
  return text.length > 0 && FORMULA_START.has(text[0]!) ? `'${text}` : text
}

/** The reverse of `neutralised`, exactly: one leading apostrophe before a formula character (or another apostrophe) is dropped. */
export function unneutralised (text: string): string {
  return text.length > 1 && text[0] === '\'' && FORMULA_START.has(text[1]!) ? text.slice(1) : text
}

// A NUL cannot be stored in PostgreSQL text and a lone surrogate is not Unicode: the same
// refusal as for a JSON body, for every file format.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The column of `record` whose text holds a NUL or an unpaired surrogate, if any. */
export function badTextColumn (record: Record<string, string>): string | undefined {
  for (const [column, cell] of Object.entries(record)) if (BAD_TEXT.test(cell)) return column
  return undefined
}
