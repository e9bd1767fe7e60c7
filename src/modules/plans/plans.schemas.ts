import { Type, type Static } from 'typebox'
import { roundTripFields } from '../../lib/representation.ts'
import { planKinds, planStatuses } from '../../db/schema.ts'
import { IsoDate, Nullable, Page, PageQuery, RegionCode, Revision, Slug, StringEnum, Timestamp, Year } from '../../lib/schemas.ts'
import { TargetInput, Value, targetExample, targetInputExample } from '../values/values.schemas.ts'

export const PlanId = Type.String({ ...Slug, description: 'Stable slug chosen by the client', examples: ['huangyan-disability-14th-fyp'] })
export const PlanKind = StringEnum(planKinds, { description: 'five-year plan (五年规划), annual work plan (工作要点), work summary (工作总结) or special action plan (专项行动方案)' })
export const PlanStatus = StringEnum(planStatuses)

const example = {
  id: 'huangyan-disability-14th-fyp',
  title: '黄岩区残疾人事业发展“十四五”规划',
  titleEn: 'Huangyan District 14th Five-Year Plan for Disability Services',
  kind: 'five-year-plan',
  regionCode: '331003',
  issuer: '台州市黄岩区人民政府',
  documentNumber: null,
  startYear: 2021,
  endYear: 2025,
  baselineYear: 2020,
  issuedOn: null,
  publishedOn: null,
  sourceUrl: null,
  status: 'in-force',
  parentPlanId: null
}

export const Plan = Type.Object({
  id: PlanId,
  title: Type.String(),
  titleEn: Nullable(Type.String()),
  kind: PlanKind,
  regionCode: RegionCode,
  issuer: Nullable(Type.String()),
  documentNumber: Nullable(Type.String({ description: '文号, unique when present' })),
  startYear: Year,
  endYear: Year,
  baselineYear: Nullable(Type.Integer()),
  issuedOn: Nullable(Type.String({ format: 'date' })),
  publishedOn: Nullable(Type.String({ format: 'date' })),
  sourceUrl: Nullable(Type.String()),
  status: PlanStatus,
  parentPlanId: Nullable(Type.String({ description: 'The higher plan this one implements' })),
  revision: Revision,
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { additionalProperties: false, examples: [{ ...example, revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z' }] })
const planExample = { ...example, revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z' }

const Text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description })
const fields = {
  title: Text(300, 'Title as issued (Chinese)'),
  titleEn: Type.Optional(Nullable(Text(500, 'English title'))),
  kind: PlanKind,
  regionCode: RegionCode,
  issuer: Type.Optional(Nullable(Text(200, 'Issuing body, e.g. 浙江省残疾人联合会'))),
  documentNumber: Type.Optional(Nullable(Text(100, '文号, e.g. 浙残联发〔2023〕1号; unique'))),
  startYear: Year,
  endYear: Year,
  baselineYear: Type.Optional(Nullable(Year)),
  issuedOn: Type.Optional(Nullable(IsoDate)),
  publishedOn: Type.Optional(Nullable(IsoDate)),
  sourceUrl: Type.Optional(Nullable(Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' }))),
  status: Type.Optional(PlanStatus),
  parentPlanId: Type.Optional(Nullable(PlanId))
}
const { id: _id, ...replaceExample } = example

// A plan the seed lacks (it has the 14th five-year plan above), so the example creates.
const createExample = {
  id: 'huangyan-dpf-2024-work-points',
  title: '黄岩区残联2024年工作要点',
  titleEn: 'Huangyan District DPF work points 2024',
  kind: 'annual-work-plan',
  regionCode: '331003',
  issuer: '台州市黄岩区残疾人联合会',
  startYear: 2024,
  endYear: 2024,
  status: 'in-force',
  parentPlanId: 'huangyan-disability-14th-fyp'
}
export const PlanCreate = Type.Object({ id: PlanId, ...fields }, { additionalProperties: false, examples: [createExample] })
export const PlanReplace = Type.Object({ ...fields, ...roundTripFields(Plan, 'id') }, { additionalProperties: false, examples: [replaceExample] })
export const PlanPatch = Type.Object({ ...Type.Partial(Type.Object(fields)).properties, ...roundTripFields(Plan, 'id') }, { additionalProperties: false, minProperties: 1, examples: [{ status: 'expired' }] })
export type PlanReplace = Static<typeof PlanReplace>
export type PlanPatch = Static<typeof PlanPatch>

export const PlanParams = Type.Object({ id: PlanId }, { additionalProperties: false })
export const PlanListQuery = Type.Object({
  region: Type.Optional(RegionCode),
  kind: Type.Optional(PlanKind),
  year: Type.Optional(Type.Integer({ minimum: 1949, maximum: 2100, description: 'Only plans in force that year (startYear <= year <= endYear)' })),
  ...PageQuery
}, { additionalProperties: false })
export const PlanPage = Page(Plan, { examples: [{ items: [planExample], nextCursor: null }] })

export const TargetTable = Type.Object({
  targets: Type.Array(TargetInput, { maxItems: 5000, description: 'The whole target table (at most 5,000 rows)' })
}, {
  additionalProperties: false,
  examples: [{ targets: [targetInputExample] }]
})
export type TargetTable = Static<typeof TargetTable>

export const TargetTableResult = Type.Object({
  created: Type.Integer({ minimum: 0 }),
  updated: Type.Integer({ minimum: 0 }),
  unchanged: Type.Integer({ minimum: 0 }),
  deleted: Type.Integer({ minimum: 0 }),
  items: Type.Array(Value)
}, {
  additionalProperties: false,
  examples: [{ created: 1, updated: 0, unchanged: 0, deleted: 0, items: [targetExample] }]
})
export const TargetPage = Page(Value, { examples: [{ items: [targetExample], nextCursor: null }] })
