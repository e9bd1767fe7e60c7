import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { decodeCursor, encodeCursor, invalidCursor, type CursorPart } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { NOT_MODIFIED } from '../../lib/routes.ts'
import { createChangesRepository, type ChangeRow } from './changes.repository.ts'
import { ChangesPage, ChangesQuery } from './changes.schemas.ts'

const position = (r: ChangeRow) => encodeCursor([r.txid, r.id, r.n])
/** Cursors handed out before feed rows held several keys name a row only: all of it was served. */
const WHOLE_ROW = 2_147_483_647

const changesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/changes', {
    config: { cache: 'data' },
    schema: {
      tags: ['changes'],
      operationId: 'listChanges',
      summary: 'The sync feed: what changed since a cursor',
      description: [
        'Every create, update and delete of a region, indicator, plan, target or value, once each,',
        'ordered by the writing transaction and then by change within it. Start without `after`;',
        'then always continue from the `nextCursor` you were given (it is never null). A change is',
        'served only once every transaction that started before it has finished, so a poller that',
        'follows `nextCursor` never misses a change, even when concurrent writers commit out of order;',
        'the price is that a long-running write delays (never loses) the changes after it. This holds when a read',
        'replica answers too, and across instances and replicas: a cursor from one server is valid on every other.',
        'A delete names the key and the revision deleted; read the current state of upserts from',
        'the resource itself (`/v1/values/{id}`, `/v1/plans/{id}`, ...).'
      ].join(' '),
      querystring: ChangesQuery,
      response: { 200: ChangesPage, ...NOT_MODIFIED, ...problems(400) }
    }
  }, async (request) => {
    const { after, limit = 100 } = request.query
    const decoded = decodeFeedCursor(after)
    const cursor = decoded !== undefined ? { txid: String(decoded[0]), id: Number(decoded[1]), n: Number(decoded[2] ?? WHOLE_ROW) } : undefined
    // From a replica too: its snapshot's xmin holds back the primary's transactions still
    // running as it replayed them, so the rule above holds there (test/replicas.test.ts).
    const rows = await createChangesRepository(request.readDb).after(cursor, limit)
    const hasMore = rows.length > limit
    const items = rows.slice(0, limit).map((r) => ({ cursor: position(r), entity: r.entity, key: r.key, op: r.op, revision: r.revision, actor: r.actor, at: r.at }))
    const last = items[items.length - 1]
    return { items, nextCursor: last !== undefined ? last.cursor : (after ?? encodeCursor(['0', 0, 0])), hasMore }
  })
}

/**
 * [txid, row id, position in the row]; the two-element cursors of earlier versions stay
 * valid. Anything else is a 400 that names the `after` parameter.
 */
const INT8_MAX = 2n ** 63n - 1n

function decodeFeedCursor (after: string | undefined) {
  if (after === undefined || after === '') return undefined
  const shapes: CursorPart[][] = [['string', 'int', 'int'], ['string', 'int']]
  for (const shape of shapes) {
    let decoded
    try {
      decoded = decodeCursor(after, shape)
    } catch {
      continue
    }
    // The transaction id is an int8 (xid8), sent as text; the other parts ids and positions.
    if (decoded === undefined || !/^[0-9]{1,19}$/.test(String(decoded[0])) || BigInt(decoded[0]!) > INT8_MAX || decoded.slice(1).some((x) => (x as number) < 0)) break
    return decoded
  }
  throw invalidCursor('after')
}

export default changesRoutes
