import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Db } from './client.ts'

/**
 * A read-only statement in plain SQL, prepared once per connection on PostgreSQL (a named
 * `pg` statement: parsed and planned once, then only bound and executed) and run as is on
 * PGlite (in process, nothing to save). For the monitoring reads (rollup, progress,
 * ranking), whose recursive CTEs and lateral joins drizzle's builder cannot express and
 * whose planning costs as much as their execution.
 *
 * Columns come back with the driver's own parsers, which differ between pg and PGlite
 * for int8, numeric and date: statements cast what they select to `int` or `text` so
 * both drivers answer the same JavaScript values.
 */
export type Statement<Row> = (params: unknown[]) => Promise<Row[]>

export function prepareStatement<Row> (db: Db, name: string, text: string): Statement<Row> {
  const client = (db as unknown as { $client: pg.Pool | PGlite }).$client
  if (client instanceof pg.Pool) {
    return async (params) => (await client.query({ name, text, values: params })).rows as Row[]
  }
  return async (params) => (await client.query<Row>(text, params)).rows
}

// Timestamps, dates and intervals as the server's text: drizzle's column decoders expect
// it (drizzle's own pg session turns these parsers off the same way).
const RAW_TEXT_TYPES = new Set([1082, 1114, 1184, 1186, 1182, 1115, 1185, 1187, 1231])
const rawTextTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPES.has(oid) ? (value: string) => value : pg.types.getTypeParser(oid, format as 'text')
}

/**
 * The rows of one query, `batch` at a time, read through a server-side cursor in a
 * read-only transaction on a connection of its own (PostgreSQL only: `undefined` on
 * PGlite, whose single connection must not be held by one reader). One plan and one pass
 * however many rows, in a consistent snapshot. The connection is released when the
 * iteration ends or is abandoned (`return()`, e.g. the client went away).
 */
export function cursorRows (db: Db, query: { sql: string, params: unknown[] }, batch: number): AsyncGenerator<unknown[][]> | undefined {
  const client = (db as unknown as { $client?: pg.Pool | PGlite }).$client
  if (!(client instanceof pg.Pool)) return undefined
  const pool = client
  return (async function * () {
    const conn = await pool.connect()
    let failed: unknown
    try {
      await conn.query('begin isolation level repeatable read read only')
      await conn.query(`declare registry_export no scroll cursor for ${query.sql}`, query.params)
      for (;;) {
        const { rows } = await conn.query<unknown[]>({ text: `fetch ${batch} from registry_export`, rowMode: 'array', types: rawTextTypes })
        if (rows.length > 0) yield rows
        if (rows.length < batch) break
      }
    } catch (err) {
      failed = err
      throw err
    } finally {
      // A connection whose transaction could not be ended is not given back to the pool.
      const ended = await conn.query('rollback').then(() => true, () => false)
      conn.release(failed !== undefined && !ended ? (failed as Error) : undefined)
    }
  })()
}
