import t from 'tap'
import { compareDecimal } from '../src/lib/decimal.ts'

// The exact comparison, by big integers: what every fast path must agree with.
function exact (a: string, b: string): number {
  const split = (x: string) => {
    const negative = x.startsWith('-')
    const [i = '0', f = ''] = x.replace('-', '').split('.')
    return { negative, i, f }
  }
  const x = split(a)
  const y = split(b)
  const width = Math.max(x.f.length, y.f.length)
  const nx = BigInt(x.i + x.f.padEnd(width, '0')) * (x.negative ? -1n : 1n)
  const ny = BigInt(y.i + y.f.padEnd(width, '0')) * (y.negative ? -1n : 1n)
  return nx < ny ? -1 : nx > ny ? 1 : 0
}

t.test('compareDecimal agrees with exact big-integer comparison', async (t) => {
  const cases: Array<[string, string]> = [
    ['0', '-0'], ['1', '1.000000'], ['0.1', '0.10'], ['-0.000001', '0'], ['99.999999', '100'],
    // 15 and more significant digits: doubles would round these together
    ['999999999999999.999999', '1000000000000000'], ['123456789012345.000001', '123456789012345'],
    ['-999999999999999.999998', '-999999999999999.999999'], ['0.3', '0.30000000000000004'],
    ['12345678901234.5', '12345678901234.6'], ['-12345678901.2345', '-12345678901.2344']
  ]
  let seed = 20251125
  const next = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  const random = () => {
    const digits = (n: number) => Array.from({ length: n }, () => String(next(10))).join('')
    const int = String(BigInt(digits(1 + next(15))))
    const frac = next(2) === 0 ? '' : `.${digits(1 + next(6))}`
    return `${next(3) === 0 ? '-' : ''}${int}${frac}`
  }
  for (let i = 0; i < 20000; i++) {
    const a = random()
    cases.push([a, next(4) === 0 ? a : random()])
  }
  let wrong = 0
  for (const [a, b] of cases) if (compareDecimal(a, b) !== exact(a, b)) wrong++
  t.equal(wrong, 0, `${cases.length} pairs`)
})
