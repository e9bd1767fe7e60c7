import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { queryRows, statement } from '../../db/query.ts'

import type { changeEntities, changeOps } from '../../db/schema.ts'

export interface ChangeRow {
  id: number
  txid: string
  /** The key's position (1-based) in its feed row, which records a whole statement. */
  n: number
  entity: typeof changeEntities[number]
  key: string
  op: typeof changeOps[number]
  revision: number
  actor: string
  /** RFC 3339, UTC, milliseconds: `2026-11-25T13:21:17.123Z`. */
  at: string
}

/**
 * The version of everything the public reads are derived from. Every write of a region,
 * indicator, plan, target or value adds a feed row in its own transaction (the triggers of
 * migrations/0006), so the data differ between two moments only if the feed does. With X
 * the snapshot's xmin (every transaction below it has finished), the version is the
 * greatest (txid, id) below X, which can no longer change but by rising, and the number
 * of rows visible at or above X. A transaction that commits between two reads was running
 * at the first read or began after it, so its txid is >= the first X: either its rows are
 * below the second X, above the first greatest (txid, id), or some rows moved below X
 * (which raises it too), or none did and the count above X grew. max(id) alone would not
 * do: a transaction holding a lower id can commit after a higher id is visible. The feed
 * is never pruned; the count relies on that. Both parts read changes_cursor_idx (txid,
 * id): an index-only scan of one entry, and of the rows of the transactions newer than
 * the oldest one still running (few, unless a transaction stays open for long).
 */
const VERSION = statement<{ horizon: string, above: number }>('data_version', `
  select
    coalesce((select c.txid::text || '.' || c.id from changes c
      where c.txid < pg_snapshot_xmin(pg_current_snapshot())
      order by c.txid desc, c.id desc limit 1), '0') as horizon,
    (select count(*)::int from changes c where c.txid >= pg_snapshot_xmin(pg_current_snapshot())) as above`)

export function createChangesRepository (db: Db) {
  return {
    /** The data version now (see VERSION): equal strings mean no write committed in between. */
    async version (): Promise<string> {
      const [row] = await VERSION.run(db, [])
      return `${row!.horizon}+${row!.above}`
    },

    /**
     * Changes after (txid, id), in transaction order. Only transactions older than every
     * transaction still running are served (pg_snapshot_xmin): a writer that started
     * earlier but commits later can therefore never slip in behind a cursor already
     * handed out; its changes simply appear once it has finished.
     */
    async after (cursor: { txid: string, id: number, n: number } | undefined, limit: number): Promise<ChangeRow[]> {
      // Each feed row holds the keys one statement changed; a page may start inside a row
      // and end inside another, so the position is (txid, row, key's place in the row).
      const rows = await queryRows<ChangeRow>(db, sql`
        select c.id::int as id, c.txid::text as txid, k.n::int as n, c.entity::text as entity, k.key, c.op::text as op,
          k.revision, c.actor,
          -- RFC 3339 in UTC, as every other timestamp of the API (Date.toISOString()), on either driver.
          to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
        from changes c cross join lateral unnest(c.keys, c.revisions) with ordinality as k(key, revision, n)
        where c.txid < pg_snapshot_xmin(pg_current_snapshot())
          ${cursor !== undefined
            // The first condition is implied by the second; it is there because it is the
            // one changes_cursor_idx (txid, id) can serve (k.n exists only after the unnest).
            ? sql`and (c.txid, c.id) >= (${cursor.txid}::xid8, ${cursor.id}::bigint)
              and (c.txid, c.id, k.n) > (${cursor.txid}::xid8, ${cursor.id}::bigint, ${cursor.n}::bigint)`
            : sql``}
        -- The table's columns, not the output's txid::text alias: as text, '18853' sorts before '5729'.
        order by c.txid, c.id, k.n
        limit ${limit + 1}`)
      return rows
    }
  }
}
