import type { ValidateFunction } from 'ajv'
import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { existingRegions, regionsWithin } from '../../db/region-tree.ts'
import { indicators, plans } from '../../db/schema.ts'
import { ApiError, type ErrorCode, type FieldError } from '../../errors/catalogue.ts'
import { fieldErrorsOf } from '../../errors/mapping.ts'
import { compareDecimal, toDecimalOrNull } from '../../lib/decimal.ts'
import { div, mul, rational, toDecimalString } from '../../lib/rational.ts'
import { createValidators } from '../../lib/validators.ts'
import type { IndicatorRow } from '../indicators/indicators.repository.ts'
import type { ValueFields, ValueInput } from './values.model.ts'
import { ValueCreate } from './values.schemas.ts'

/**
 * The checks every write of a value passes, whatever its path (POST, PATCH, a plan's
 * target table, the bulk import, the seed loader): the schema of POST /v1/values (strict:
 * no coercion, no unknown field), what the value refers to, and the design's rules.
 */

type PlanRow = typeof plans.$inferSelect

/** What a batch of values refers to: its indicators, plans and regions, looked up once. */
export interface References {
  indicators: Map<string, IndicatorRow>
  plans: Map<string, PlanRow>
  /** The region codes named by the batch that exist. */
  regions: Set<string>
  /** For each plan named, the batch's regions that are its region or lie below it. */
  insidePlan: Map<string, Set<string>>
}

/** The failure of one value: the catalogue code of its first problem, and every problem. */
export interface RowProblems { code: ErrorCode, errors: FieldError[] }

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * Looks up what a batch of values refers to, with one query per kind of reference however
 * many values there are. Takes the values as sent, before any check: only codes that are
 * strings are looked up.
 */
export async function loadReferences (db: Db, values: readonly unknown[]): Promise<References> {
  const indicatorCodes = new Set<string>()
  const regionCodes = new Set<string>()
  const regionsByPlan = new Map<string, Set<string>>()
  for (const value of values) {
    if (typeof value !== 'object' || value === null) continue
    const { indicatorCode, regionCode, planId } = value as Record<string, unknown>
    const indicator = text(indicatorCode)
    const region = text(regionCode)
    const plan = text(planId)
    if (indicator !== undefined) indicatorCodes.add(indicator)
    if (region !== undefined) regionCodes.add(region)
    if (plan !== undefined) {
      const codes = regionsByPlan.get(plan) ?? new Set<string>()
      if (region !== undefined) codes.add(region)
      regionsByPlan.set(plan, codes)
    }
  }
  // One after another: inside a transaction `db` is a single connection. Codes are bound
  // as one array parameter: a batch may name tens of thousands of regions.
  const indicatorRows = indicatorCodes.size > 0 ? await db.select().from(indicators).where(sql`${indicators.code} = any(${sql.param([...indicatorCodes])}::text[])`) : []
  const planRows = regionsByPlan.size > 0 ? await db.select().from(plans).where(sql`${plans.id} = any(${sql.param([...regionsByPlan.keys()])}::text[])`) : []
  const regions = await existingRegions(db, [...regionCodes])
  const insidePlan = new Map<string, Set<string>>()
  for (const plan of planRows) insidePlan.set(plan.id, await regionsWithin(db, plan.regionCode, [...regionsByPlan.get(plan.id)!]))
  return {
    indicators: new Map(indicatorRows.map((r) => [r.code, r])),
    plans: new Map(planRows.map((r) => [r.id, r])),
    regions,
    insidePlan
  }
}

let validateInput: ValidateFunction | undefined

/**
 * A rate sent with its numerator and denominator must be what they make: value = 100 ×
 * numerator / denominator, rounded half away from zero to as many decimals as the value
 * is given with (95 or 95.0 for 950/1000; 33.33 for 1/3). Answers the expected value when
 * the three disagree, undefined when they agree or one is missing.
 */
function ratioMismatch (value: string | null, numerator: string | null, denominator: string | null): string | undefined {
  if (value === null || numerator === null || denominator === null || compareDecimal(denominator, '0') <= 0) return undefined
  const digits = value.split('.')[1]?.length ?? 0
  const expected = toDecimalString(mul(rational('100'), div(rational(numerator), rational(denominator))!), digits)
  return compareDecimal(expected, value) === 0 ? undefined : expected
}

/** The rules' codes, least specific first. */
const RULE_CODES = ['INVALID_VALUE', 'VALIDATION_FAILED', 'INDICATOR_REFERENCE', 'VALUE_OUT_OF_RANGE'] as const
type RuleCode = typeof RULE_CODES[number]

const actualOnly = ['status', 'numerator', 'denominator', 'asOf'] as const
const targetOnly = ['comparator', 'binding', 'baselineYear', 'baselineValue', 'qualitative'] as const

/**
 * Checks one value as sent and makes the fields to store, or says every problem of it.
 * `pointer` is the value's JSON pointer in the request (`/body`, `/body/targets/3`, or
 * nothing for an import row, which the import numbers).
 */
function checkValue (refs: References, sent: unknown, pointer: string): ValueFields | RowProblems {
  validateInput ??= createValidators().body.compile(ValueCreate)
  if (!validateInput(sent)) return { code: 'VALIDATION_FAILED', errors: fieldErrorsOf(validateInput.errors ?? [], pointer) }
  const input = sent as ValueInput

  const errors: FieldError[] = []
  // The answer's code: a broken reference (region, plan) comes first; among the rules' own
  // problems the most specific one (RULE_CODES' order) wins.
  let referenceCode: ErrorCode | undefined
  let ruleCode: RuleCode | undefined
  const fail = (c: ErrorCode | RuleCode, field: string, fieldCode: string, message: string) => {
    if (c === 'REFERENCE_NOT_FOUND' || c === 'TARGET_OUTSIDE_PLAN') referenceCode ??= c
    else if (ruleCode === undefined || RULE_CODES.indexOf(c as RuleCode) > RULE_CODES.indexOf(ruleCode)) ruleCode = c as RuleCode
    errors.push({ field: `${pointer}/${field}`, code: fieldCode, message })
  }
  const decimal = (name: 'value' | 'numerator' | 'denominator' | 'baselineValue') => {
    try {
      return toDecimalOrNull(input[name], `${pointer}/${name}`)
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      fail('VALIDATION_FAILED', name, 'decimal', e.errors?.[0]?.message ?? 'is not a decimal')
      return null
    }
  }

  // What the value refers to.
  const regionExists = refs.regions.has(input.regionCode)
  if (!regionExists) fail('REFERENCE_NOT_FOUND', 'regionCode', 'not-found', `no region has code ${input.regionCode}`)
  const fromYear = input.fromYear ?? input.year
  if (input.kind === 'target' && input.planId != null) {
    const plan = refs.plans.get(input.planId)
    if (plan === undefined) {
      fail('REFERENCE_NOT_FOUND', 'planId', 'not-found', `no plan has id ${input.planId}`)
    } else {
      if (regionExists && refs.insidePlan.get(plan.id)?.has(input.regionCode) !== true) {
        fail('TARGET_OUTSIDE_PLAN', 'regionCode', 'outside-plan', `${input.regionCode} is not ${plan.regionCode} or a region below it`)
      }
      if (fromYear < plan.startYear || input.year > plan.endYear) {
        fail('TARGET_OUTSIDE_PLAN', 'year', 'outside-plan', `period ${fromYear}-${input.year} is not within the plan's years ${plan.startYear}-${plan.endYear}`)
      }
    }
  }

  // The design's rules.
  const value = decimal('value')
  const numerator = decimal('numerator')
  const denominator = decimal('denominator')
  const baselineValue = decimal('baselineValue')
  if (fromYear > input.year) fail('INVALID_VALUE', 'fromYear', 'period', `fromYear ${fromYear} is after year ${input.year}`)
  if (input.kind === 'actual') {
    for (const f of targetOnly) if (input[f] != null) fail('INVALID_VALUE', f, 'target-only', 'applies to targets only')
    if (input.planId != null) fail('INVALID_VALUE', 'planId', 'target-only', 'actuals belong to no plan; give the document in `source`')
    if (input.value == null) fail('INVALID_VALUE', 'value', 'required', 'an actual needs a value')
  } else {
    for (const f of actualOnly) if (input[f] != null) fail('INVALID_VALUE', f, 'actual-only', 'applies to actuals only')
    if (input.planId == null) fail('INVALID_VALUE', 'planId', 'required', 'a target belongs to a plan')
    if (input.value == null && input.qualitative == null) fail('INVALID_VALUE', 'value', 'required', 'a target needs a value, or `qualitative` text when it has no number')
  }
  if (denominator !== null && compareDecimal(denominator, '0') <= 0) fail('INVALID_VALUE', 'denominator', 'positive', 'must be greater than 0')

  const indicator = refs.indicators.get(input.indicatorCode)
  if (indicator === undefined) {
    fail('INDICATOR_REFERENCE', 'indicatorCode', 'not-found', `no indicator has code ${input.indicatorCode}`)
  } else {
    const share = indicator.aggregation === 'ratio' ? ratioMismatch(value, numerator, denominator) : undefined
    if (share !== undefined) {
      fail('INVALID_VALUE', 'value', 'ratio', `${value} is not 100 × numerator / denominator = ${share} (${numerator}/${denominator}, rounded to the value's decimals)`)
    }
    for (const [name, v] of [['value', value], ['baselineValue', baselineValue]] as const) {
      if (v === null) continue
      const below = indicator.min !== null && compareDecimal(v, indicator.min) < 0
      const above = indicator.max !== null && compareDecimal(v, indicator.max) > 0
      if (below || above) fail('VALUE_OUT_OF_RANGE', name, 'out-of-range', `${v} lies outside ${indicator.code}'s range [${indicator.min ?? '-∞'}, ${indicator.max ?? '∞'}]`)
    }
  }
  const code = referenceCode ?? (ruleCode === 'INDICATOR_REFERENCE' ? 'REFERENCE_NOT_FOUND' : ruleCode)
  if (code !== undefined) return { code, errors }

  const b = input.breakdown ?? {}
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

/** The values of a batch that pass, by position (undefined where a value fails), and the problems of those that fail. */
export interface CheckedValues {
  rows: Array<ValueFields | undefined>
  problems: Array<RowProblems & { index: number }>
}

/**
 * Checks a batch of values as sent against the schema of POST /v1/values, what they refer
 * to (`refs`, from loadReferences) and the design's rules. `pointer(i)` is value i's JSON
 * pointer in the request (`/body`, `/body/targets/3`, or nothing for an import row, which
 * the import numbers).
 */
export function checkValues (refs: References, values: readonly unknown[], pointer: (i: number) => string): CheckedValues {
  const checked: CheckedValues = { rows: [], problems: [] }
  values.forEach((value, index) => {
    const result = checkValue(refs, value, pointer(index))
    if ('errors' in result) {
      checked.rows.push(undefined)
      checked.problems.push({ ...result, index })
    } else {
      checked.rows.push(result)
    }
  })
  return checked
}

/**
 * Checks a batch all or nothing (references looked up, then checkValues): the fields to
 * store, in order, or one problem listing every value's errors with the catalogue code of
 * the first (what a single write answers); with `rowNumbers` each error also carries its
 * value's 1-based row.
 */
export async function checkAll (db: Db, values: readonly unknown[], pointer: (i: number) => string, rowNumbers = false): Promise<ValueFields[]> {
  const { rows, problems } = checkValues(await loadReferences(db, values), values, pointer)
  if (problems.length === 0) return rows as ValueFields[]
  const errors = problems.flatMap((p) => p.errors.map((e) => (rowNumbers ? { row: p.index + 1, ...e } : e)))
  const only = errors.length === 1 ? errors[0]! : undefined
  throw new ApiError(problems[0]!.code, only !== undefined ? `${only.field ?? ''}: ${only.message}.` : `${errors.length} problems; see errors.`, { errors })
}
