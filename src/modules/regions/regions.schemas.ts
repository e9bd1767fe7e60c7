import { Type, type Static } from 'typebox'
import { regionLevels } from '../../db/schema.ts'
import { roundTripFields } from '../../lib/representation.ts'
import { Nullable, Page, PageQuery, RegionCode, Revision, SearchText, StringEnum, Timestamp } from '../../lib/schemas.ts'

export const RegionLevel = StringEnum(regionLevels, { description: 'Administrative level' })
const Name = Type.String({ minLength: 1, maxLength: 100, description: 'Official Chinese name', examples: ['黄岩区'] })
const NameEn = Type.String({ minLength: 1, maxLength: 200, description: 'English name', examples: ['Huangyan District'] })

const regionExample = {
  code: '331003', name: '黄岩区', nameEn: 'Huangyan District', level: 'county', parentCode: '331000',
  revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z'
}

export const Region = Type.Object({
  code: RegionCode,
  name: Type.String(),
  nameEn: Nullable(Type.String()),
  level: RegionLevel,
  parentCode: Nullable(Type.String(), { description: 'Code of the parent region; null only for the national root 100000' }),
  revision: Revision,
  createdAt: Timestamp,
  updatedAt: Timestamp
}, {
  additionalProperties: false,
  examples: [regionExample]
})
export type Region = Static<typeof Region>

const regionFields = {
  name: Name,
  nameEn: Type.Optional(Nullable(NameEn)),
  level: RegionLevel,
  parentCode: Type.Optional(Nullable(RegionCode))
}

export const RegionCreate = Type.Object({ code: RegionCode, ...regionFields }, {
  additionalProperties: false,
  // A township the seed does not load (it has only 嵊州市's and 黄岩区's), so the example creates.
  examples: [{ code: '331004001', name: '路桥街道', nameEn: 'Luqiao Subdistrict', level: 'township', parentCode: '331004' }]
})
export const RegionReplace = Type.Object({ ...regionFields, ...roundTripFields(Region, 'code') }, {
  additionalProperties: false,
  examples: [{ name: '黄岩区', nameEn: 'Huangyan District', level: 'county', parentCode: '331000' }]
})
export const RegionPatch = Type.Object({
  name: Type.Optional(Name),
  nameEn: Type.Optional(Nullable(NameEn)),
  level: Type.Optional(RegionLevel),
  parentCode: Type.Optional(Nullable(RegionCode)),
  ...roundTripFields(Region, 'code')
}, { additionalProperties: false, minProperties: 1, examples: [{ nameEn: 'Huangyan District of Taizhou' }] })
export type RegionCreate = Static<typeof RegionCreate>
export type RegionPatch = Static<typeof RegionPatch>
export type RegionReplace = Static<typeof RegionReplace>

export const CodeParams = Type.Object({ code: RegionCode }, { additionalProperties: false })

export const RegionListQuery = Type.Object({
  parent: Type.Optional(RegionCode),
  level: Type.Optional(RegionLevel),
  q: Type.Optional(SearchText),
  ...PageQuery
}, { additionalProperties: false })

export const DescendantsQuery = Type.Object({
  level: Type.Optional(RegionLevel),
  ...PageQuery
}, { additionalProperties: false })

export const RegionPage = Page(Region, {
  examples: [{ items: [regionExample], nextCursor: null }]
})
