import { Type } from 'typebox'
import { DecimalOutput, Nullable, RegionCode, StringEnum, Year } from '../../lib/schemas.ts'
import { ActualStatus, Binding, Breakdown, Comparator } from '../values/values.schemas.ts'
import { methodOf, progressMethods, progressStatuses } from './progress.service.ts'

export const ProgressQuery = Type.Object({
  asOf: Type.Optional(Type.Integer({
    minimum: 1949,
    maximum: 2100,
    description: 'Assess with the actuals of this year and before (default: the current calendar year in China Standard Time, UTC+8)',
    examples: [2023]
  })),
  method: Type.Optional(StringEnum(progressMethods, {
    default: 'linear',
    description: '`linear` (default): against the straight path from baseline to target; `projection`: the recent pace extended to the target\'s year (Destatis); `growth-ratio`: observed over required compound annual growth (Eurostat). See `method` in the answer for formulas, thresholds and sources'
  }))
}, { additionalProperties: false })

export const ProgressStatus = StringEnum(progressStatuses, { description: 'Assessment of the target (see `method.status`)' })

const Counts = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  achieved: Type.Integer({ minimum: 0 }),
  'on-track': Type.Integer({ minimum: 0 }),
  'at-risk': Type.Integer({ minimum: 0 }),
  'off-track': Type.Integer({ minimum: 0 }),
  'no-data': Type.Integer({ minimum: 0 }),
  'not-assessable': Type.Integer({ minimum: 0 })
}, { additionalProperties: false, description: 'Targets of the class, and how many have each status (keys are the status values)' })

const ProgressActual = Type.Object({
  id: Type.Integer({ description: 'Id of the actual (GET /v1/values/{id})' }),
  fromYear: Year,
  year: Year,
  value: DecimalOutput,
  status: ActualStatus,
  asOf: Nullable(Type.String({ format: 'date' }), { description: 'Date of a partial-year figure' })
}, { additionalProperties: false, description: 'The actual the target is compared with' })

const Cumulative = Type.Object({
  value: DecimalOutput,
  fromYear: Year,
  toYear: Type.Integer({ description: 'The last year with a yearly actual' }),
  actualIds: Type.Array(Type.Integer(), { description: 'The yearly actuals summed, oldest first' }),
  periodElapsed: DecimalOutput,
  periodYears: Type.Integer()
}, { additionalProperties: false, description: 'A multi-year flow target without an actual of its whole period: the sum of the yearly actuals inside the period so far, compared with the target (see `method.cumulative`)' })

const Trend = Type.Object({
  status: ProgressStatus,
  reason: Type.String(),
  points: Type.Array(Type.Object({ id: Type.Integer(), year: Year, value: DecimalOutput }, { additionalProperties: false }), { description: 'The actuals the trend was measured on, oldest first, so it can be recomputed' }),
  projected: Nullable(DecimalOutput, { description: '`projection`: the value projected for the target\'s year' }),
  averageAnnualChange: Nullable(DecimalOutput, { description: '`projection`: the average annual change (a flow: the average yearly amount)' }),
  growthBase: Nullable(Type.Object({ year: Year, value: DecimalOutput }, { additionalProperties: false }), { description: '`growth-ratio`: the base growth is measured from' }),
  observedGrowth: Nullable(DecimalOutput, { description: '`growth-ratio`: observed annual growth (compound, else absolute)' }),
  requiredGrowth: Nullable(DecimalOutput, { description: '`growth-ratio`: the annual growth the target requires' }),
  growthRatio: Nullable(DecimalOutput, { description: '`growth-ratio`: observed / required' })
}, { additionalProperties: false, description: 'The trend method\'s computation, when `method` is `projection` or `growth-ratio` and the target is neither achieved nor without data; null otherwise' })

const item = {
  targetId: 7,
  regionCode: '331003',
  indicatorCode: 'hardship-subsidy-coverage',
  fromYear: 2025,
  year: 2025,
  breakdown: null,
  binding: 'binding',
  comparator: 'at-least',
  target: '100',
  qualitative: null,
  baselineYear: 2020,
  baselineValue: '95',
  direction: 'increase',
  nature: 'rate',
  actual: { id: 42, fromYear: 2023, year: 2023, value: '97', status: 'provisional', asOf: null },
  cumulative: null,
  provisional: true,
  expected: '98',
  attainment: '0.4',
  trend: null,
  status: 'at-risk',
  reason: 'The progress since the baseline is at least 0.6 of the trajectory\'s by 2023.'
}

export const ProgressItem = Type.Object({
  targetId: Type.Integer({ description: 'Id of the target (GET /v1/values/{id})' }),
  regionCode: RegionCode,
  indicatorCode: Type.String(),
  fromYear: Year,
  year: Year,
  breakdown: Nullable(Breakdown),
  binding: Binding,
  comparator: Nullable(Comparator),
  target: Nullable(DecimalOutput, { description: 'The target value; null for a qualitative target' }),
  qualitative: Nullable(Type.String()),
  baselineYear: Nullable(Type.Integer({ description: 'Year of the baseline: the target\'s, else the plan\'s' })),
  baselineValue: Nullable(DecimalOutput),
  direction: StringEnum(['increase', 'decrease'] as const, { description: 'The indicator\'s direction (which way is better)' }),
  nature: StringEnum(['flow', 'stock', 'rate'] as const, { description: 'The indicator\'s temporal nature: a multi-year target of a `flow` is compared with the sum of its yearly actuals' }),
  actual: Nullable(ProgressActual),
  cumulative: Nullable(Cumulative),
  provisional: Type.Boolean({ description: 'True when the actual used is provisional: the assessment may change when it is finalised' }),
  expected: Nullable(DecimalOutput, { description: 'Trajectory value at the actual\'s year; null without a trajectory' }),
  attainment: Nullable(DecimalOutput, { description: 'Share of the target attained (1 = reached), 6 fraction digits' }),
  trend: Nullable(Trend),
  status: ProgressStatus,
  reason: Type.String({ description: 'Why the status, in words' })
}, { additionalProperties: false })

const methodSchema = Type.Object({
  name: StringEnum(progressMethods),
  actual: Type.String(),
  cumulative: Type.String(),
  baseline: Type.String(),
  attainment: Type.String(),
  expected: Type.String(),
  status: Type.String(),
  summary: Type.String(),
  rounding: Type.String(),
  methods: Type.String(),
  atRiskShare: DecimalOutput,
  trend: Nullable(Type.Object({
    formula: Type.String(),
    source: Type.String({ description: 'Where the method and its thresholds are published' }),
    thresholds: Type.Record(Type.String(), DecimalOutput),
    points: Type.Object({ min: Type.Integer(), max: Type.Integer() }, { additionalProperties: false, description: 'How many of the latest actuals the trend uses' })
  }, { additionalProperties: false }), { description: 'The trend method\'s formula, thresholds and source; null for `linear`' })
}, { additionalProperties: false, description: 'The method, formulas and thresholds this answer was computed with' })

export const Progress = Type.Object({
  planId: Type.String(),
  asOf: Year,
  method: methodSchema,
  summary: Type.Object({ binding: Counts, expected: Counts }, {
    additionalProperties: false,
    description: 'Status counts per binding class: `binding` (约束性) and `expected` (预期性)'
  }),
  items: Type.Array(ProgressItem, { description: 'One per target of the plan, ordered by year, then target id' })
}, {
  additionalProperties: false,
  examples: [{
    planId: 'huangyan-disability-14th-fyp',
    asOf: 2023,
    method: methodOf('linear'),
    summary: {
      binding: { total: 1, achieved: 0, 'on-track': 0, 'at-risk': 1, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 },
      expected: { total: 0, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 }
    },
    items: [item]
  }]
})
