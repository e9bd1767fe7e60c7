import { Type } from 'typebox'
import { changeEntities, changeOps } from '../../db/schema.ts'
import { StringEnum, Timestamp } from '../../lib/schemas.ts'

const FeedCursor = Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_-]*$', description: 'Opaque position in the feed' })

export const Change = Type.Object({
  cursor: FeedCursor,
  entity: StringEnum(changeEntities, { description: 'What changed: `region`, `indicator`, `plan`, `target` or `value` (an actual)' }),
  key: Type.String({ description: 'Its key: region or indicator code, plan id, or yearly value id' }),
  op: StringEnum(changeOps, { description: '`upsert` (created or updated) or `delete`' }),
  revision: Type.Integer({ description: 'Revision after the change (for a delete: the revision deleted)' }),
  actor: Type.String({ description: 'Who made the change (the id of the token that wrote; `seed` for the seed loader, `system` for manual SQL)' }),
  at: Timestamp
}, { additionalProperties: false })

export const ChangesQuery = Type.Object({
  after: Type.Optional(FeedCursor),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (1-1000)' }))
}, { additionalProperties: false })

export const ChangesPage = Type.Object({
  items: Type.Array(Change),
  nextCursor: Type.String({ description: 'Where to continue from; never null: with no new changes it is the cursor you sent' }),
  hasMore: Type.Boolean({ description: 'True when more changes are already available after nextCursor' })
}, {
  additionalProperties: false,
  examples: [{
    items: [
      { cursor: 'WyI3NTciLDMsMV0', entity: 'value', key: '42', op: 'upsert', revision: 2, actor: '3f9a1c0b7e21', at: '2026-01-05T08:00:00.000Z' },
      { cursor: 'WyI3NTgiLDQsMV0', entity: 'region', key: '331003', op: 'upsert', revision: 1, actor: 'seed', at: '2026-01-05T08:00:01.000Z' }
    ],
    nextCursor: 'WyI3NTgiLDQsMV0',
    hasMore: false
  }]
})
