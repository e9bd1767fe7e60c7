import { DECIMAL_PATTERN } from './schemas.ts'
import { ApiError } from '../errors/catalogue.ts'

const decimal = new RegExp(DECIMAL_PATTERN)

/**
 * Normalises a decimal sent as a JSON number or string into the exact string stored in a
 * `numeric` column. A number whose shortest text form is not a plain decimal (1e21,
 * 1e-7, NaN, Infinity, 0.30000000000000004) is rejected rather than rounded.
 */
export function toDecimal (input: number | string, field: string): string {
  const text = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : 'not finite') : input
  if (!decimal.test(text)) {
    throw new ApiError('VALIDATION_FAILED', `${field} is not a decimal with at most 15 integer and 6 fraction digits.`, {
      errors: [{ field, code: 'decimal', message: 'must be a decimal with at most 15 integer and 6 fraction digits' }]
    })
  }
  return text === '-0' ? '0' : text
}

export function toDecimalOrNull (input: number | string | null | undefined, field: string): string | null {
  return input === null || input === undefined ? null : toDecimal(input, field)
}

/**
 * Compares two decimal strings exactly (no float rounding). Strings of at most 16
 * characters hold at most 15 significant digits, which a double represents distinctly and
 * in order: those (nearly every value) are compared as numbers, the rest as big integers.
 */
export function compareDecimal (a: string, b: string): number {
  if (a.length <= 16 && b.length <= 16) {
    const x = Number(a)
    const y = Number(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
  const sa = a.startsWith('-') ? -1 : 1
  const sb = b.startsWith('-') ? -1 : 1
  const [ia = '0', fa = ''] = a.replace('-', '').split('.')
  const [ib = '0', fb = ''] = b.replace('-', '').split('.')
  const width = Math.max(fa.length, fb.length)
  const na = BigInt(ia + fa.padEnd(width, '0')) * BigInt(sa)
  const nb = BigInt(ib + fb.padEnd(width, '0')) * BigInt(sb)
  return na < nb ? -1 : na > nb ? 1 : 0
}
