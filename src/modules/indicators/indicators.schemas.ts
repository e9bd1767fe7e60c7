import { Type, type Static } from 'typebox'
import { aggregations, directions, indicatorDomains, indicatorUnits, temporalNatures } from '../../db/schema.ts'
import { roundTripFields } from '../../lib/representation.ts'
import { DecimalInput, DecimalOutput, Nullable, Page, PageQuery, Revision, SearchText, Slug, StringEnum, Timestamp } from '../../lib/schemas.ts'

export const IndicatorCode = Type.String({ ...Slug, description: 'Stable slug of the indicator', examples: ['hardship-subsidy-coverage'] })
export const Domain = StringEnum(indicatorDomains, { description: 'Policy domain' })
export const Unit = StringEnum(indicatorUnits, { description: 'Unit of every value of the indicator (`cny-10k` = 万元)' })
export const Aggregation = StringEnum(aggregations, {
  description: '`sum`: counts add up over regions; `ratio`: a rate rolled up as sum(numerator)/sum(denominator); `none`: cannot be rolled up'
})
export const Direction = StringEnum(directions, { description: 'Which way is better' })
export const Nature = StringEnum(temporalNatures, {
  description: 'How yearly values relate over time: `flow` (yearly amounts that add up over years: new jobs, households retrofitted), `stock` (a level at a date: institutions, beds) or `rate` (a share at a date). Plan progress compares a multi-year target of a flow with the sum of the yearly actuals in its period, a stock or rate with the latest level. Default on writes: `rate` for percent indicators, else `stock`'
})

const example = {
  code: 'hardship-subsidy-coverage',
  name: '困难残疾人生活补贴覆盖率',
  nameEn: 'Coverage of the living subsidy for disabled people in hardship',
  domain: 'income',
  unit: 'percent',
  aggregation: 'ratio',
  direction: 'increase',
  nature: 'rate',
  min: '0',
  max: '100',
  definition: '享受困难残疾人生活补贴的人数占符合条件人数的比例',
  numeratorLabel: '享受补贴人数',
  denominatorLabel: '符合条件的困难残疾人数'
}

export const Indicator = Type.Object({
  code: IndicatorCode,
  name: Type.String(),
  nameEn: Nullable(Type.String()),
  domain: Domain,
  unit: Unit,
  aggregation: Aggregation,
  direction: Direction,
  nature: Nature,
  min: Nullable(DecimalOutput, { description: 'Lowest valid value (inclusive), or null' }),
  max: Nullable(DecimalOutput, { description: 'Highest valid value (inclusive), or null' }),
  definition: Nullable(Type.String()),
  numeratorLabel: Nullable(Type.String()),
  denominatorLabel: Nullable(Type.String()),
  revision: Revision,
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { additionalProperties: false, examples: [{ ...example, revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z' }] })
const indicatorExample = { ...example, revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z' }

const Text = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description })
const fields = {
  name: Text(200, 'Chinese name as the documents word it'),
  nameEn: Type.Optional(Nullable(Text(300, 'English name'))),
  domain: Domain,
  unit: Unit,
  aggregation: Aggregation,
  direction: Direction,
  nature: Type.Optional(Nature),
  min: Type.Optional(Nullable(DecimalInput)),
  max: Type.Optional(Nullable(DecimalInput)),
  definition: Type.Optional(Nullable(Text(2000, 'One-line definition'))),
  numeratorLabel: Type.Optional(Nullable(Text(200, 'What the numerator counts (ratio indicators)'))),
  denominatorLabel: Type.Optional(Nullable(Text(200, 'What the denominator counts (ratio indicators)')))
}
const { code: _c, ...replaceExample } = example

// An indicator the seed catalogue lacks, so the example creates (the seed has the one above).
const createExample = {
  code: 'sign-language-interpreters',
  name: '手语翻译员人数',
  nameEn: 'Sign-language interpreters',
  domain: 'accessibility',
  unit: 'persons',
  aggregation: 'sum',
  direction: 'increase',
  min: '0',
  definition: '在岗的持证手语翻译员人数'
}
export const IndicatorCreate = Type.Object({ code: IndicatorCode, ...fields }, { additionalProperties: false, examples: [createExample] })
export const IndicatorReplace = Type.Object({ ...fields, ...roundTripFields(Indicator, 'code') }, { additionalProperties: false, examples: [replaceExample] })
export const IndicatorPatch = Type.Object({ ...Type.Partial(Type.Object(fields)).properties, ...roundTripFields(Indicator, 'code') }, { additionalProperties: false, minProperties: 1, examples: [{ nameEn: 'Living-subsidy coverage' }] })
export type IndicatorReplace = Static<typeof IndicatorReplace>
export type IndicatorPatch = Static<typeof IndicatorPatch>

export const IndicatorParams = Type.Object({ code: IndicatorCode }, { additionalProperties: false })
export const IndicatorListQuery = Type.Object({
  domain: Type.Optional(Domain),
  q: Type.Optional(SearchText),
  ...PageQuery
}, { additionalProperties: false })
export const IndicatorPage = Page(Indicator, { examples: [{ items: [indicatorExample], nextCursor: null }] })
