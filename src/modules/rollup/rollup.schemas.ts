import { Type } from 'typebox'
import { DecimalOutput, Nullable, RegionCode, Slug, StringEnum, Year } from '../../lib/schemas.ts'
import { RegionLevel } from '../regions/regions.schemas.ts'
import { ActualStatus, Breakdown } from '../values/values.schemas.ts'

/** A breakdown filter as in GET /v1/values, but one breakdown only (no `*`: breakdowns do not add up). */
export const BREAKDOWN_PATTERN = '^(total|((category|grade|sex|area):[a-z0-9]+)(,(category|grade|sex|area):[a-z0-9]+)*)$'
export const BreakdownQuery = Type.String({
  pattern: BREAKDOWN_PATTERN,
  maxLength: 100,
  description: 'Which breakdown: `total` (the default) or e.g. `category:mental,sex:female` (exactly that breakdown)',
  examples: ['category:mental']
})

export const IndicatorCodeQuery = Type.String({ ...Slug, description: 'Code of the indicator', examples: ['new-employment'] })

export const RollupQuery = Type.Object({
  indicator: IndicatorCodeQuery,
  from: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'First year (inclusive)', examples: [2021] })),
  to: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'Last year (inclusive)', examples: [2025] })),
  level: Type.Optional(RegionLevel),
  breakdown: Type.Optional(BreakdownQuery)
}, { additionalProperties: false })

const Count = (description: string) => Type.Integer({ minimum: 0, description })

export const RollupYear = Type.Object({
  year: Year,
  value: Nullable(DecimalOutput, { description: 'The derived value: sum of values (`sum`) or sum(numerator)/sum(denominator) x 100 (`ratio`); null when nothing contributed' }),
  numerator: Nullable(DecimalOutput, { description: '`ratio`: sum of the numerators that entered the derived value; null for `sum`' }),
  denominator: Nullable(DecimalOutput, { description: '`ratio`: sum of the denominators that entered the derived value; null for `sum`' }),
  reportedCount: Count('Regions at `level` below the region that reported a value this year'),
  contributingCount: Nullable(Count('`ratio`: regions that reported both a numerator and a denominator (the derived value is over these); null for `sum`')),
  regionCount: Count('Regions at `level` below the region (how many could report)'),
  own: Nullable(Type.Object({
    id: Type.Integer({ description: 'Id of the actual (GET /v1/values/{id})' }),
    value: DecimalOutput,
    status: ActualStatus
  }, { additionalProperties: false }), { description: 'The region\'s own reported actual for the year, if any' }),
  difference: Nullable(DecimalOutput, { description: 'own - derived value, when both exist' })
}, { additionalProperties: false })

export const Rollup = Type.Object({
  regionCode: RegionCode,
  indicatorCode: Type.String(),
  aggregation: StringEnum(['sum', 'ratio'] as const),
  unit: Type.String({ description: 'The indicator\'s unit (a `ratio` is answered in percent)' }),
  breakdown: Nullable(Breakdown, { description: 'The breakdown rolled up; null for totals' }),
  level: Nullable(RegionLevel, { description: 'The level rolled up; null when no region lies below' }),
  levelSource: StringEnum(['requested', 'child-level', 'none-below'] as const, {
    description: 'How `level` was chosen: as requested, the region\'s child level (the default), or no region below'
  }),
  years: Type.Array(RollupYear, { description: 'One entry per year, oldest first' })
}, {
  additionalProperties: false,
  examples: [{
    regionCode: '330000',
    indicatorCode: 'hardship-subsidy-coverage',
    aggregation: 'ratio',
    unit: 'percent',
    breakdown: null,
    level: 'county',
    levelSource: 'child-level',
    years: [{
      year: 2023,
      value: '98.75',
      numerator: '79',
      denominator: '80',
      reportedCount: 2,
      contributingCount: 2,
      regionCount: 90,
      own: { id: 42, value: '99', status: 'final' },
      difference: '0.25'
    }]
  }]
})
