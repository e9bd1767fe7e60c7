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
 * How many feed rows are visible, counted from a horizon the caller keeps (see
 * lib/data-version.ts). Every write of a region, indicator, plan, target or value adds a
 * feed row in its own transaction (the triggers of migrations/0006), and the feed is only
 * ever added to, so the number of visible feed rows rises with every commit that changed
 * data and with nothing else: it is the data version. Counting them all each time would
 * scan the feed; instead, with X the snapshot's xmin (every transaction below it has
 * finished, so the rows below it are final), the caller keeps the count below its last X
 * and asks only for the rows at or above it: `since` (all of them, visible now) and
 * `settled` (those below the new X, to add to its kept count). Both read changes_cursor_idx
 * (txid, id) from the last X: the rows of the transactions newer than the oldest one
 * running at the last call (few, unless a transaction stays open for long).
 */
const VISIBLE_SINCE = statement<{ horizon: string, settled: number, since: number }>('data_version', `
  select pg_snapshot_xmin(pg_current_snapshot())::text as horizon,
    count(*) filter (where c.txid < pg_snapshot_xmin(pg_current_snapshot()))::int as settled,
    count(*)::int as since
  from changes c where c.txid >= $1::xid8`)

export function createChangesRepository (db: Db) {
  return {
    /** Feed rows visible at or above `horizon` (a txid; '0' for all), and the new horizon (see VISIBLE_SINCE). */
    async visibleSince (horizon: string): Promise<{ horizon: string, settled: number, since: number }> {
      const [row] = await VISIBLE_SINCE.run(db, [horizon])
      return { horizon: row!.horizon, settled: Number(row!.settled), since: Number(row!.since) }
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
