import { Type, type Static } from 'typebox'
import { tokenRoles } from '../../db/schema.ts'
import { Nullable, Page, PageQuery, RegionCode, StringEnum, Timestamp } from '../../lib/schemas.ts'

const Role = StringEnum(tokenRoles, { description: '`reader` (reads), `editor` (writes plans, targets and values of its region and below), `admin` (everything, including regions, indicators and tokens)' })

const tokenExample = {
  id: '3f9a1c0b7e21', name: '嵊州市残联 nightly sync', role: 'editor', regionCode: '330683',
  createdBy: '0a1b2c3d4e5f', createdAt: '2026-01-05T08:00:00.000Z', expiresAt: null, revokedAt: null
}

export const Token = Type.Object({
  id: Type.String({ description: 'Public id of the token (it appears as `actor` in history and the changes feed)' }),
  name: Type.String(),
  role: Role,
  regionCode: Nullable(RegionCode, { description: 'Editors: the region they may write (and everything below it)' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  expiresAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp)
}, { additionalProperties: false, examples: [tokenExample] })

export const CreatedToken = Type.Object({
  ...Token.properties,
  token: Type.String({ description: 'The secret bearer token. Shown this once: only a keyed hash is stored.' })
}, { additionalProperties: false, examples: [{ ...tokenExample, token: 'irt_3f9a1c0b7e21_Q2hvb3NlIGEgc3Ryb25nIHNlY3JldCBoZXJlIQAAAAAAAAA' }] })

export const TokenCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, description: 'What the token is for' }),
  role: Role,
  regionCode: Type.Optional(Nullable(RegionCode)),
  expiresAt: Type.Optional(Nullable(Type.String({ format: 'date-time', description: 'When the token stops working (default: never)' })))
}, { additionalProperties: false, examples: [{ name: '嵊州市残联 nightly sync', role: 'editor', regionCode: '330683' }] })
export type TokenCreate = Static<typeof TokenCreate>

export const TokenParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) }, { additionalProperties: false })
export const TokenListQuery = Type.Object(PageQuery, { additionalProperties: false })
export const TokenPage = Page(Token, { examples: [{ items: [tokenExample], nextCursor: null }] })
