import { regionLevels } from '../../db/schema.ts'
import { ApiError } from '../../errors/catalogue.ts'
import { div, mul, rational, sub, toDecimalString } from '../../lib/rational.ts'
import type { RegionLevel } from '../regions/regions.rules.ts'
import type { Breakdown } from '../values/values.schemas.ts'
import type { RollupRow } from './rollup.repository.ts'

/**
 * Rollup of one indicator over a region's descendants (docs/design.md "Rollup"): pure
 * computation over the grouped rows of the rollup statement. The texts are both the
 * OpenAPI description and what an integrator reads in the answer's field descriptions.
 */
export const rules = {
  values: 'Only single-year actuals (fromYear = year) of the requested breakdown (default: totals) count; multi-year figures and targets never do.',
  level: 'The regions rolled up are every descendant of the region at `level`, at any depth (a province-administered county under its province counts among the province\'s counties). Default `level`: the region\'s child level, the highest level present below it (a province\'s prefectures, a municipality\'s districts, a prefecture\'s counties), whether or not it has data; a year without data there is answered with its counts, never by switching to another level. `level` must lie below the region\'s own level (422 otherwise).',
  sum: '`sum` indicators: value = the sum of the values of the regions that reported.',
  ratio: '`ratio` indicators: value = sum(numerator) / sum(denominator) x 100 over the regions that reported both a numerator and a denominator (`contributingCount`); a region that reported only the rate does not enter the derived figure, since rates cannot be added. Rounded half away from zero to 6 fraction digits.',
  none: '`none` indicators (e.g. growth rates) cannot be rolled up: 422 `INDICATOR_NOT_AGGREGABLE`.',
  years: 'With both `from` and `to`, one entry per year of from..to, also for years without data; otherwise one entry per year that has data (derived or the region\'s own), within the bound given.',
  own: 'Each year also shows the region\'s own reported actual (`own`) beside the derived value, and `difference` = own - derived, so a gap between reported and derived figures is visible.'
} as const

const rank = (level: RegionLevel) => regionLevels.indexOf(level)

export interface RollupInput {
  region: { code: string, level: RegionLevel }
  indicator: { code: string, aggregation: 'sum' | 'ratio' | 'none', unit: string }
  from: number | undefined
  to: number | undefined
  level: RegionLevel | undefined
  breakdown: Breakdown
}

/** Refuses what cannot be rolled up, before any data is read. */
export function assertRollupAllowed (input: Pick<RollupInput, 'region' | 'indicator' | 'level' | 'from' | 'to'>): void {
  if (input.from !== undefined && input.to !== undefined && input.from > input.to) {
    throw new ApiError('VALIDATION_FAILED', `from ${input.from} is after to ${input.to}.`, {
      errors: [{ field: '/query/from', code: 'after-to', message: 'must not be after `to`' }]
    })
  }
  if (input.indicator.aggregation === 'none') {
    throw new ApiError('INDICATOR_NOT_AGGREGABLE', `Indicator ${input.indicator.code} has aggregation none: its values cannot be combined over regions (e.g. a growth rate). Compare regions with /v1/indicators/${input.indicator.code}/ranking instead.`)
  }
  assertLevelBelow(input.region, input.level, 'level')
}

/** A `level` at or above the region's own level selects nothing below it: 422. */
export function assertLevelBelow (region: { code: string, level: RegionLevel }, level: RegionLevel | undefined, field: string): void {
  if (level !== undefined && rank(level) <= rank(region.level)) {
    const message = `must lie below the region's own level (${region.level})`
    throw new ApiError('UNPROCESSABLE', `Region ${region.code} is a ${region.level}: ${field} ${level} does not lie below it.`, {
      errors: [{ field: `/query/${field}`, code: 'not-below-region', message }]
    })
  }
}

/** Which level is rolled up, and why. */
function chooseLevel (input: RollupInput, rows: RollupRow[]): { level: RegionLevel | null, levelSource: 'requested' | 'child-level' | 'none-below' } {
  if (input.level !== undefined) return { level: input.level, levelSource: 'requested' }
  const below = rows.filter((r) => r.part === 'regions').map((r) => r.level)
  if (below.length > 0) return { level: below.reduce((a, b) => (rank(b) < rank(a) ? b : a)), levelSource: 'child-level' }
  return { level: null, levelSource: 'none-below' }
}

const decimal = (text: string) => toDecimalString(rational(text))

export function rollupReport (input: RollupInput, rows: RollupRow[]) {
  const { level, levelSource } = chooseLevel(input, rows)
  const regionCount = rows.find((r) => r.part === 'regions' && r.level === level)?.count ?? 0
  const data = new Map(rows.filter((r) => r.part === 'data' && r.level === level).map((r) => [r.year!, r]))
  const own = new Map(rows.filter((r) => r.part === 'own').map((r) => [r.year!, r]))

  let years: number[]
  if (input.from !== undefined && input.to !== undefined) {
    years = Array.from({ length: input.to - input.from + 1 }, (_, i) => input.from! + i)
  } else {
    years = [...new Set([...data.keys(), ...own.keys()])].sort((a, b) => a - b)
  }

  const ratio = input.indicator.aggregation === 'ratio'
  const entries = years.map((year) => {
    const d = data.get(year)
    const o = own.get(year)
    let value: string | null = null
    let numerator: string | null = null
    let denominator: string | null = null
    if (d !== undefined) {
      if (!ratio) {
        value = d.valueSum === null ? null : decimal(d.valueSum)
      } else if (d.withParts > 0 && d.numeratorSum !== null && d.denominatorSum !== null) {
        numerator = decimal(d.numeratorSum)
        denominator = decimal(d.denominatorSum)
        const q = div(mul(rational(d.numeratorSum), rational(100)), rational(d.denominatorSum))
        value = q === null ? null : toDecimalString(q)
      }
    }
    const ownValue = o?.valueSum == null ? null : decimal(o.valueSum)
    return {
      year,
      value,
      numerator,
      denominator,
      reportedCount: d?.count ?? 0,
      contributingCount: ratio ? (d?.withParts ?? 0) : null,
      regionCount,
      own: o === undefined || ownValue === null ? null : { id: Number(o.ownId), value: ownValue, status: o.ownStatus ?? 'final' },
      difference: ownValue !== null && value !== null ? toDecimalString(sub(rational(ownValue), rational(value))) : null
    }
  })

  return {
    regionCode: input.region.code,
    indicatorCode: input.indicator.code,
    aggregation: input.indicator.aggregation as 'sum' | 'ratio',
    unit: input.indicator.unit,
    breakdown: Object.keys(input.breakdown).length === 0 ? null : input.breakdown,
    level,
    levelSource,
    years: entries
  }
}
