import { Type, type Static } from 'typebox'
import { ApiError } from '../../errors/catalogue.ts'
import { roundTripFields } from '../../lib/representation.ts'
import { actualStatuses, areas, bindings, categories, comparators, grades, sexes, valueKinds } from '../../db/schema.ts'
import { DecimalInput, DecimalOutput, IsoDate, Nullable, Page, PageQuery, RegionCode, Revision, Slug, StringEnum, Timestamp, Year } from '../../lib/schemas.ts'

export const ValueKind = StringEnum(valueKinds, { description: '`actual` (reported by a region) or `target` (set by a plan)' })
export const ActualStatus = StringEnum(actualStatuses, { description: 'Actuals only: `provisional`, `final` or `estimated` (default `final`)' })
export const Comparator = StringEnum(comparators, { description: 'Targets only: how the actual must relate to the value (以上/不低于/达到 = `at-least`; default `at-least` when a value is given)' })
export const Binding = StringEnum(bindings, { description: 'Targets only: `binding` (约束性) or `expected` (预期性, the default)' })

export const Breakdown = Type.Object({
  category: Type.Optional(StringEnum(categories, { description: 'Disability category (GB/T 26341-2010)' })),
  grade: Type.Optional(StringEnum(grades, { description: 'Disability grade (1 most severe)' })),
  sex: Type.Optional(StringEnum(sexes)),
  area: Type.Optional(StringEnum(areas))
}, {
  additionalProperties: false,
  description: 'Part of the key: which sub-population the value counts. Absent, null or {} means the total.',
  examples: [{ category: 'mental', grade: '3' }]
})
export type Breakdown = Static<typeof Breakdown>

const Text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description })
const ValueId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Server-assigned id of the yearly value' })
const PlanId = Type.String({ ...Slug, description: 'Id of the plan that sets the target', examples: ['huangyan-disability-14th-fyp'] })
const IndicatorCode = Type.String({ ...Slug, description: 'Code of the indicator', examples: ['hardship-subsidy-coverage'] })

export const Value = Type.Object({
  id: ValueId,
  kind: ValueKind,
  planId: Nullable(Type.String(), { description: 'The plan that sets the target; null for actuals' }),
  regionCode: RegionCode,
  indicatorCode: Type.String(),
  fromYear: Year,
  year: Year,
  breakdown: Nullable(Breakdown),
  value: Nullable(DecimalOutput, { description: 'The number, in the indicator\'s unit; null only for qualitative targets' }),
  status: Nullable(ActualStatus),
  numerator: Nullable(DecimalOutput),
  denominator: Nullable(DecimalOutput),
  asOf: Nullable(Type.String({ format: 'date' }), { description: 'Date of a partial-year figure (截止…)' }),
  comparator: Nullable(Comparator),
  binding: Nullable(Binding),
  baselineYear: Nullable(Type.Integer()),
  baselineValue: Nullable(DecimalOutput),
  qualitative: Nullable(Type.String()),
  source: Nullable(Type.String({ description: 'Provenance: document number or URL, and section' })),
  note: Nullable(Type.String()),
  revision: Revision,
  createdAt: Timestamp,
  updatedAt: Timestamp
}, {
  additionalProperties: false,
  description: 'A yearly value. Target-only fields are null on actuals and actual-only fields are null on targets.',
  examples: [valueExample()]
})

function valueExample () {
  return {
    id: 42, kind: 'actual', planId: null, regionCode: '330683', indicatorCode: 'hardship-subsidy-recipients',
    fromYear: 2021, year: 2021, breakdown: null, value: '3491', status: 'final', numerator: null, denominator: null,
    asOf: '2021-09-30', comparator: null, binding: null, baselineYear: null, baselineValue: null, qualitative: null,
    source: 'shengzhou-dpf-2021-summary (二)', note: '截止9月底，发放困难残疾人生活补贴789.55万元，惠及3491人',
    revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z'
  }
}
export const actualExample = valueExample()
export const targetInputExample = { regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2025, value: '100', comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '100' }
export const targetExample = {
  ...actualExample, id: 7, kind: 'target', planId: 'huangyan-disability-14th-fyp', ...targetInputExample, fromYear: 2025,
  status: null, asOf: null, source: 'huangyan-disability-14th-fyp 表1', note: null
}

/** Fields a client may send for a value of either kind (kind rules are checked after). */
export const valueFields = {
  regionCode: RegionCode,
  indicatorCode: IndicatorCode,
  year: Year,
  fromYear: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'First year of a multi-year period (default: `year`)' })),
  breakdown: Type.Optional(Nullable(Breakdown)),
  value: Type.Optional(Nullable(DecimalInput)),
  status: Type.Optional(Nullable(ActualStatus)),
  numerator: Type.Optional(Nullable(DecimalInput)),
  denominator: Type.Optional(Nullable(DecimalInput)),
  asOf: Type.Optional(Nullable(IsoDate)),
  comparator: Type.Optional(Nullable(Comparator)),
  binding: Type.Optional(Nullable(Binding)),
  baselineYear: Type.Optional(Nullable(Year)),
  baselineValue: Type.Optional(Nullable(DecimalInput)),
  qualitative: Type.Optional(Nullable(Text(500, 'Targets only: the target in words when it has no number (then value is null)'))),
  source: Type.Optional(Nullable(Text(500, 'Provenance: document number or URL, and section'))),
  note: Type.Optional(Nullable(Text(2000, 'Free text, e.g. the original phrase')))
}

export const ValueCreate = Type.Object({
  kind: ValueKind,
  planId: Type.Optional(Nullable(PlanId)),
  ...valueFields
}, {
  additionalProperties: false,
  // Keys the seed does not hold yet, so both examples create (test/openapi-examples.test.ts).
  examples: [{
    kind: 'actual', regionCode: '330683', indicatorCode: 'hardship-subsidy-beneficiaries', year: 2022,
    value: 3620, status: 'final', source: '嵊州市残联2022年工作总结', note: '惠及3620人'
  }, {
    kind: 'target', planId: 'huangyan-disability-14th-fyp', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage',
    year: 2023, value: '98.5', comparator: 'at-least', binding: 'expected', baselineYear: 2020, baselineValue: '98'
  }]
})
export type ValueCreate = Static<typeof ValueCreate>

/** A row of a plan's target table: a value without kind and plan (both implied). */
export const TargetInput = Type.Object(valueFields, {
  additionalProperties: false,
  examples: [targetInputExample]
})
export type TargetInput = Static<typeof TargetInput>

const { regionCode, indicatorCode, year, ...optionalFields } = valueFields
export const ValuePatch = Type.Object({
  ...roundTripFields(Value, 'id'),
  kind: Type.Optional(Type.Unsafe({ ...ValueKind, description: 'Optional: the kind cannot change; when sent it must be the stored kind (422 otherwise)' })),
  planId: Type.Optional(PlanId),
  regionCode: Type.Optional(regionCode),
  indicatorCode: Type.Optional(indicatorCode),
  year: Type.Optional(year),
  ...optionalFields
}, { additionalProperties: false, minProperties: 1, examples: [{ value: '3500', status: 'final', note: '年终数' }] })
export type ValuePatch = Static<typeof ValuePatch>

export const ValueParams = Type.Object({ id: ValueId }, { additionalProperties: false })

export const BREAKDOWN_FILTER_PATTERN = '^(\\*|total|((category|grade|sex|area):[a-z0-9]+)(,(category|grade|sex|area):[a-z0-9]+)*)$'
export const ValueListQuery = Type.Object({
  region: Type.Optional(RegionCode),
  includeDescendants: Type.Optional(Type.Boolean({ default: false, description: 'With `region`: also the values of every region below it' })),
  indicator: Type.Optional(IndicatorCode),
  kind: Type.Optional(ValueKind),
  plan: Type.Optional(PlanId),
  from: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'Only periods starting in or after this year (fromYear >= from)' })),
  to: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'Only periods ending in or before this year (year <= to)' })),
  status: Type.Optional(StringEnum(actualStatuses, { description: 'Only actuals with this status (targets have none, so this also leaves targets out). Absent (the default): every status, and targets' })),
  breakdown: Type.Optional(Type.String({
    pattern: BREAKDOWN_FILTER_PATTERN,
    maxLength: 100,
    description: 'Which breakdown: `category:mental,sex:female` (exactly that breakdown), `total` (the default: totals only) or `*` (every breakdown)',
    examples: ['category:mental,sex:female']
  })),
  latest: Type.Optional(Type.Boolean({
    default: false,
    description: 'Only the most recent actual per region, indicator and breakdown (latest year; for one year a single-year figure before a multi-year total), ordered by region and indicator'
  })),
  format: Type.Optional(Type.Enum(['json', 'csv', 'xlsx'], { description: '`csv` (or `Accept: text/csv`) streams every matching value as CSV, unpaginated, with the columns the import accepts; `xlsx` (or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) the same as an Excel workbook' })),
  bom: Type.Optional(Type.Boolean({ default: false, description: 'CSV only: start the UTF-8 file with a byte order mark, so that Excel (which reads a CSV without one as the system code page, GBK on a Chinese Windows) shows the Chinese text right' })),
  ...PageQuery
}, { additionalProperties: false })

export const ValuePage = Page(Value, { examples: [{ items: [actualExample], nextCursor: null }] })

export const HistoryEntry = Type.Object({
  revision: Revision,
  op: Type.Enum(['create', 'update', 'delete'], { description: 'What the write did' }),
  at: Timestamp,
  actor: Type.String({ description: 'Who made the write (the id of the token that wrote; `seed` for the seed loader, `system` for manual SQL)' }),
  before: Nullable(Value, { description: 'The value before the write (null for the create)' }),
  after: Nullable(Value, { description: 'The value after the write (null for the delete)' })
}, { additionalProperties: false })

export const HistoryQuery = Type.Object(PageQuery, { additionalProperties: false })
export const HistoryPage = Page(HistoryEntry, {
  examples: [{
    items: [
      { revision: 1, op: 'create', at: '2026-01-05T08:00:00.000Z', actor: 'seed', before: null, after: actualExample },
      { revision: 2, op: 'update', at: '2026-02-01T09:30:00.000Z', actor: '3f9a1c0b7e21', before: actualExample, after: { ...actualExample, value: '3500', revision: 2, asOf: null, updatedAt: '2026-02-01T09:30:00.000Z' } }
    ],
    nextCursor: null
  }]
})

const breakdownValues: Record<string, Set<string>> = {
  category: new Set(categories),
  grade: new Set(grades),
  sex: new Set(sexes),
  area: new Set(areas)
}

/** Parses the `breakdown` list filter: undefined or `total` = totals only, `*` = every breakdown, else exactly the pairs given. */
export function parseBreakdownFilter (text: string | undefined): Breakdown | '*' {
  if (text === undefined || text === 'total') return {}
  if (text === '*') return '*'
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    const [dim = '', val = ''] = part.split(':')
    if (breakdownValues[dim]?.has(val) !== true || out[dim] !== undefined) {
      throw new ApiError('VALIDATION_FAILED', `breakdown: "${part}" is not a known dimension:value pair (or is repeated).`, {
        errors: [{ field: '/query/breakdown', code: 'breakdown', message: `unknown or repeated: ${part}` }]
      })
    }
    out[dim] = val
  }
  return out as Breakdown
}
