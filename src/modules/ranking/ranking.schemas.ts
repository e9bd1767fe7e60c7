import { Type } from 'typebox'
import { regionLevels } from '../../db/schema.ts'
import { DecimalOutput, Nullable, Page, PageQuery, RegionCode, StringEnum } from '../../lib/schemas.ts'
import { IndicatorCode } from '../indicators/indicators.schemas.ts'
import { ActualStatus } from '../values/values.schemas.ts'

export const RankingParams = Type.Object({ code: IndicatorCode }, { additionalProperties: false })

export const RankingQuery = Type.Object({
  year: Type.Integer({ minimum: 1949, maximum: 2100, description: 'The year whose single-year actuals are ranked', examples: [2023] }),
  level: Type.Optional(StringEnum(regionLevels, { default: 'county', description: 'Level of the regions ranked (default `county`); must lie below `within`' })),
  within: Type.Optional(Type.String({ ...RegionCode, default: '100000', description: 'Rank only the regions below this one (default: the national root 100000)', examples: ['330000'] })),
  ...PageQuery
}, { additionalProperties: false })

const rankingExample = { rank: 1, regionCode: '330683', regionName: '嵊州市', value: '99.5', status: 'final', valueId: 42 }

export const RankingItem = Type.Object({
  rank: Nullable(Type.Integer({ minimum: 1 }), { description: 'Competition rank (ties share a rank: 1, 2, 2, 4); null for a region without data' }),
  regionCode: RegionCode,
  regionName: Type.String(),
  value: Nullable(DecimalOutput, { description: 'The region\'s single-year total actual of the year; null when it has none' }),
  status: Nullable(ActualStatus, { description: 'Status of the actual (a provisional figure is ranked and marked here)' }),
  valueId: Nullable(Type.Integer({ description: 'Id of the actual (GET /v1/values/{id})' }))
}, { additionalProperties: false })

export const RankingPage = Page(RankingItem, {
  examples: [{
    items: [rankingExample, { ...rankingExample, rank: 2, regionCode: '331003', regionName: '黄岩区', value: '98', valueId: 43 },
      { rank: null, regionCode: '331004', regionName: '路桥区', value: null, status: null, valueId: null }],
    nextCursor: null
  }]
})
