import { sql } from 'drizzle-orm'
import { queryRows, type Db } from '../../db/client.ts'

import type { changeEntities, changeOps } from '../../db/schema.ts'

export interface ChangeRow {
  id: number
  txid: string
  entity: typeof changeEntities[number]
  key: string
  op: typeof changeOps[number]
  revision: number
  actor: string
  /** RFC 3339, UTC, milliseconds: `2026-11-25T13:21:17.123Z`. */
  at: string
}

export function createChangesRepository (db: Db) {
  return {
    /**
     * Changes after (txid, id), in transaction order. Only transactions older than every
     * transaction still running are served (pg_snapshot_xmin): a writer that started
     * earlier but commits later can therefore never slip in behind a cursor already
     * handed out; its changes simply appear once it has finished.
     */
    async after (cursor: { txid: string, id: number } | undefined, limit: number): Promise<ChangeRow[]> {
      const rows = await queryRows<ChangeRow>(db, sql`
        select id::int as id, txid::text as txid, entity::text as entity, key, op::text as op, revision, actor,
          -- RFC 3339 in UTC, as every other timestamp of the API (Date.toISOString()), on either driver.
          to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
        from changes
        where txid < pg_snapshot_xmin(pg_current_snapshot())
          ${cursor !== undefined ? sql`and (txid, id) > (${cursor.txid}::xid8, ${cursor.id}::bigint)` : sql``}
        -- The table's columns, not the output's txid::text alias: as text, '18853' sorts before '5729'.
        order by changes.txid, changes.id
        limit ${limit + 1}`)
      return rows
    }
  }
}
