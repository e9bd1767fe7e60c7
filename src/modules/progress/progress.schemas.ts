import { Type } from 'typebox'
import { DecimalOutput, Nullable, RegionCode, StringEnum, Year } from '../../lib/schemas.ts'
import { ActualStatus, Binding, Breakdown, Comparator } from '../values/values.schemas.ts'
import { method, progressStatuses } from './progress.service.ts'

export const ProgressQuery = Type.Object({
  asOf: Type.Optional(Type.Integer({
    minimum: 1949,
    maximum: 2100,
    description: 'Assess with the actuals of this year and before (default: the current calendar year in China Standard Time, UTC+8)',
    examples: [2023]
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
  actual: { id: 42, fromYear: 2023, year: 2023, value: '97', status: 'provisional', asOf: null },
  provisional: true,
  expected: '98',
  attainment: '0.4',
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
  actual: Nullable(ProgressActual),
  provisional: Type.Boolean({ description: 'True when the actual used is provisional: the assessment may change when it is finalised' }),
  expected: Nullable(DecimalOutput, { description: 'Trajectory value at the actual\'s year; null without a trajectory' }),
  attainment: Nullable(DecimalOutput, { description: 'Share of the target attained (1 = reached), 6 fraction digits' }),
  status: ProgressStatus,
  reason: Type.String({ description: 'Why the status, in words' })
}, { additionalProperties: false })

const methodSchema = Type.Object({
  actual: Type.String(),
  baseline: Type.String(),
  attainment: Type.String(),
  expected: Type.String(),
  status: Type.String(),
  summary: Type.String(),
  rounding: Type.String(),
  atRiskShare: DecimalOutput
}, { additionalProperties: false, description: 'The formula and thresholds this answer was computed with' })

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
    method: { ...method, atRiskShare: '0.6' },
    summary: {
      binding: { total: 1, achieved: 0, 'on-track': 0, 'at-risk': 1, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 },
      expected: { total: 0, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 }
    },
    items: [item]
  }]
})
