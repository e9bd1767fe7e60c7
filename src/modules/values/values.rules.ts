import type { yearlyValues } from '../../db/schema.ts'
import { compareDecimal, toDecimalOrNull } from '../../lib/decimal.ts'
import { ApiError, type FieldError } from '../../lib/errors.ts'
import type { IndicatorRow } from '../indicators/indicators.repository.ts'
import type { Breakdown, TargetInput } from './values.schemas.ts'

export type ValueRow = typeof yearlyValues.$inferSelect
/**
 * A stored row as the reads hand it on: through drizzle its timestamps are Dates, through
 * the prepared hot reads (values.repository.ts) already ISO 8601 text. Both serialise alike.
 */
export type ValueRecord = Omit<ValueRow, 'createdAt' | 'updatedAt'> & { createdAt: Date | string, updatedAt: Date | string }
/** Everything of a row that a client decides (no id, revision or timestamps). */
export type ValueData = Omit<typeof yearlyValues.$inferInsert, 'id' | 'revision' | 'createdAt' | 'updatedAt'>
export type ValueKind = ValueRow['kind']

/** What a client sends for one value, whatever the route (POST, PATCH result, target table). */
export type ValueInput = TargetInput & { kind: ValueKind, planId?: string | null }

const actualOnly = ['status', 'numerator', 'denominator', 'asOf'] as const
const targetOnly = ['comparator', 'binding', 'baselineYear', 'baselineValue', 'qualitative'] as const

/**
 * Checks one value against the design's rules and turns it into the row to store.
 * `prefix` is the JSON pointer of the value in the request (e.g. `/body/targets/3`).
 * Throws one ApiError listing every problem of the value.
 */
export function toValueData (input: ValueInput, indicator: IndicatorRow | undefined, prefix: string): ValueData {
  const errors: FieldError[] = []
  const err = (field: string, code: string, message: string) => errors.push({ field: `${prefix}/${field}`, code, message })
  let code: 'UNPROCESSABLE' | 'VALUE_OUT_OF_RANGE' | 'REFERENCE_NOT_FOUND' | 'VALIDATION_FAILED' | 'INVALID_VALUE' = 'INVALID_VALUE'

  const decimal = (name: 'value' | 'numerator' | 'denominator' | 'baselineValue') => {
    try {
      return toDecimalOrNull(input[name], `${prefix}/${name}`)
    } catch (e) {
      errors.push(...((e as ApiError).errors ?? []))
      code = 'VALIDATION_FAILED'
      return null
    }
  }
  const value = decimal('value')
  const numerator = decimal('numerator')
  const denominator = decimal('denominator')
  const baselineValue = decimal('baselineValue')
  const fromYear = input.fromYear ?? input.year

  if (fromYear > input.year) err('fromYear', 'period', `fromYear ${fromYear} is after year ${input.year}`)
  if (input.kind === 'actual') {
    for (const f of targetOnly) if (input[f] !== undefined && input[f] !== null) err(f, 'target-only', 'applies to targets only')
    if (input.planId !== undefined && input.planId !== null) err('planId', 'target-only', 'actuals belong to no plan; give the document in `source`')
    if (value === null && input.value === null) err('value', 'required', 'an actual needs a value')
    if (input.value === undefined) err('value', 'required', 'an actual needs a value')
  } else {
    for (const f of actualOnly) if (input[f] !== undefined && input[f] !== null) err(f, 'actual-only', 'applies to actuals only')
    if (input.planId === undefined || input.planId === null) err('planId', 'required', 'a target belongs to a plan')
    const hasValue = input.value !== undefined && input.value !== null
    const hasText = input.qualitative !== undefined && input.qualitative !== null
    if (!hasValue && !hasText) err('value', 'required', 'a target needs a value, or `qualitative` text when it has no number')
  }
  if (denominator !== null && compareDecimal(denominator, '0') <= 0) err('denominator', 'positive', 'must be greater than 0')

  if (indicator === undefined) {
    err('indicatorCode', 'not-found', `no indicator has code ${input.indicatorCode}`)
    code = 'REFERENCE_NOT_FOUND'
  } else {
    for (const [name, v] of [['value', value], ['baselineValue', baselineValue]] as const) {
      if (v === null) continue
      const below = indicator.min !== null && compareDecimal(v, indicator.min) < 0
      const above = indicator.max !== null && compareDecimal(v, indicator.max) > 0
      if (below || above) {
        err(name, 'out-of-range', `${v} lies outside ${indicator.code}'s range [${indicator.min ?? '-∞'}, ${indicator.max ?? '∞'}]`)
        code = 'VALUE_OUT_OF_RANGE'
      }
    }
  }
  if (errors.length > 0) {
    const first = errors[0]!
    throw new ApiError(code, errors.length === 1 ? `${first.field}: ${first.message}.` : `${errors.length} problems; see errors.`, { errors })
  }

  const b: Breakdown = input.breakdown ?? {}
  const isTarget = input.kind === 'target'
  return {
    kind: input.kind,
    planId: isTarget ? input.planId! : null,
    regionCode: input.regionCode,
    indicatorCode: input.indicatorCode,
    fromYear,
    year: input.year,
    category: b.category ?? null,
    grade: b.grade ?? null,
    sex: b.sex ?? null,
    area: b.area ?? null,
    value,
    status: isTarget ? null : (input.status ?? 'final'),
    numerator,
    denominator,
    asOf: isTarget ? null : (input.asOf ?? null),
    // A qualitative target keeps a comparator only when one is stated (各单位1名以上).
    comparator: isTarget ? (input.comparator ?? (value !== null ? 'at-least' : null)) : null,
    binding: isTarget ? (input.binding ?? 'expected') : null,
    baselineYear: isTarget ? (input.baselineYear ?? null) : null,
    baselineValue: isTarget ? baselineValue : null,
    qualitative: isTarget ? (input.qualitative ?? null) : null,
    source: input.source ?? null,
    note: input.note ?? null
  }
}

/** A key field as text; anything but a string or number (no stored or valid value has one there) gives a mark no valid key contains, and an object's own toString is never called. */
function keyPart (v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '\u0000'
}

type KeyFields = Pick<ValueData, 'kind' | 'planId' | 'regionCode' | 'indicatorCode' | 'fromYear' | 'year' | 'category' | 'grade' | 'sex' | 'area'>

/** The natural key of a value (design: period and breakdown are part of it). */
export function naturalKey (v: KeyFields): string {
  return [v.kind, v.planId, v.regionCode, v.indicatorCode, v.fromYear, v.year, v.category, v.grade, v.sex, v.area].map(keyPart).join('|')
}

/**
 * The natural key of a value as sent, before any check: for a value that passes its checks
 * it is naturalKey() of the row toValueData makes of it (an actual has no plan, fromYear
 * defaults to year, the breakdown's parts are the key's). A bulk import sorts by it, so rows
 * sharing a key are neighbours before any row is checked. What it gives for a malformed value
 * does not matter: its checks reject it.
 */
export function naturalKeyAsSent (value: unknown): string {
  if (typeof value !== 'object' || value === null) return ''
  const v = value as Record<string, unknown>
  const b = (typeof v.breakdown === 'object' && v.breakdown !== null ? v.breakdown : {}) as Record<string, unknown>
  return naturalKey({
    kind: v.kind,
    planId: v.kind === 'target' ? v.planId : null,
    regionCode: v.regionCode,
    indicatorCode: v.indicatorCode,
    fromYear: v.fromYear ?? v.year,
    year: v.year,
    category: b.category,
    grade: b.grade,
    sex: b.sex,
    area: b.area
  } as KeyFields)
}

/** A stored row back into the input shape, so a PATCH can be merged and checked again. */
export function rowToInput (row: ValueRecord): ValueInput {
  return {
    kind: row.kind,
    planId: row.planId,
    regionCode: row.regionCode,
    indicatorCode: row.indicatorCode,
    year: row.year,
    fromYear: row.fromYear,
    breakdown: breakdownOf(row),
    value: row.value,
    ...(row.kind === 'actual'
      ? { status: row.status ?? undefined, numerator: row.numerator, denominator: row.denominator, asOf: row.asOf }
      : { numerator: row.numerator, denominator: row.denominator, comparator: row.comparator, binding: row.binding ?? undefined, baselineYear: row.baselineYear, baselineValue: row.baselineValue, qualitative: row.qualitative }),
    source: row.source,
    note: row.note
  }
}

export function breakdownOf (row: Pick<ValueRow, 'category' | 'grade' | 'sex' | 'area'>): Breakdown | null {
  if (row.category === null && row.grade === null && row.sex === null && row.area === null) return null
  const b: Breakdown = {}
  if (row.category !== null) b.category = row.category
  if (row.grade !== null) b.grade = row.grade
  if (row.sex !== null) b.sex = row.sex
  if (row.area !== null) b.area = row.area
  return b
}

/**
 * The API representation of a stored row. Written out field by field rather than by
 * rest/spread: it runs for every row of every list page (issue #7, read path).
 */
export function toValueResource (row: ValueRecord) {
  return {
    id: row.id,
    kind: row.kind,
    planId: row.planId,
    regionCode: row.regionCode,
    indicatorCode: row.indicatorCode,
    fromYear: row.fromYear,
    year: row.year,
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
    note: row.note,
    revision: row.revision,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    breakdown: breakdownOf(row)
  }
}

const dimensions = new Set(['category', 'grade', 'sex', 'area'])
const allowed: Record<string, Set<string>> = {
  category: new Set(['visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple']),
  grade: new Set(['1', '2', '3', '4']),
  sex: new Set(['male', 'female']),
  area: new Set(['urban', 'rural'])
}

/** Parses `breakdown=category:mental,sex:female`; undefined/`total` = totals only, `*` = every breakdown. */
export function parseBreakdownFilter (text: string | undefined): Breakdown | '*' {
  if (text === undefined || text === 'total') return {}
  if (text === '*') return '*'
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    const [dim = '', val = ''] = part.split(':')
    if (!dimensions.has(dim) || !allowed[dim]!.has(val) || out[dim] !== undefined) {
      throw new ApiError('VALIDATION_FAILED', `breakdown: "${part}" is not a known dimension:value pair (or is repeated).`, {
        errors: [{ field: '/query/breakdown', code: 'breakdown', message: `unknown or repeated: ${part}` }]
      })
    }
    out[dim] = val
  }
  return out as Breakdown
}
