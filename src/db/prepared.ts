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
