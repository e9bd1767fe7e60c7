/**
 * Exact fractions over BigInt, for the monitoring formulas (attainment, trajectory,
 * thresholds): every stored figure is a decimal, so quotients of differences of decimals
 * are exact fractions and comparisons between them never suffer float rounding. Only the
 * answer is rounded, once, when it is written out as a decimal string.
 */
export interface Rational { n: bigint, d: bigint }

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a
  b = b < 0n ? -b : b
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

function make (n: bigint, d: bigint): Rational {
  if (d === 0n) throw new RangeError('division by zero')
  if (d < 0n) { n = -n; d = -d }
  const g = gcd(n, d)
  return g > 1n ? { n: n / g, d: d / g } : { n, d }
}

/** Parses a decimal string such as `-12.345` (as stored in a numeric column). */
export function rational (decimal: string | number | bigint): Rational {
  if (typeof decimal !== 'string') return { n: BigInt(decimal), d: 1n }
  const negative = decimal.startsWith('-')
  const [int = '0', frac = ''] = decimal.replace(/^[-+]/, '').split('.')
  const n = BigInt((int === '' ? '0' : int) + frac)
  return make(negative ? -n : n, 10n ** BigInt(frac.length))
}

export const add = (a: Rational, b: Rational) => make(a.n * b.d + b.n * a.d, a.d * b.d)
export const sub = (a: Rational, b: Rational) => make(a.n * b.d - b.n * a.d, a.d * b.d)
export const mul = (a: Rational, b: Rational) => make(a.n * b.n, a.d * b.d)
/** a / b, or null when b is zero. */
export const div = (a: Rational, b: Rational): Rational | null => (b.n === 0n ? null : make(a.n * b.d, a.d * b.n))
export const cmp = (a: Rational, b: Rational): number => {
  const l = a.n * b.d
  const r = b.n * a.d
  return l < r ? -1 : l > r ? 1 : 0
}
export const sign = (a: Rational): number => (a.n < 0n ? -1 : a.n > 0n ? 1 : 0)
export const min = (a: Rational, b: Rational) => (cmp(a, b) <= 0 ? a : b)
export const max = (a: Rational, b: Rational) => (cmp(a, b) >= 0 ? a : b)

/**
 * The decimal string of `a` rounded half away from zero to `digits` fraction digits,
 * without trailing zeros (`1/3` → `0.333333`, `3/2` → `1.5`, `-0.0000001` → `0`).
 */
export function toDecimalString (a: Rational, digits = 6): string {
  const scale = 10n ** BigInt(digits)
  const negative = a.n < 0n
  const abs = negative ? -a.n : a.n
  let q = (abs * scale) / a.d
  if ((abs * scale) % a.d * 2n >= a.d) q += 1n
  const text = q.toString().padStart(digits + 1, '0')
  const int = text.slice(0, text.length - digits)
  const frac = text.slice(text.length - digits).replace(/0+$/, '')
  const out = frac === '' ? int : `${int}.${frac}`
  return negative && q !== 0n ? `-${out}` : out
}
