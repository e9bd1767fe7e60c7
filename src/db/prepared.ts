import type { PGlite } from '@electric-sql/pglite'
import type { Readable } from 'node:stream'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
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

/** A query's text with its parameters written in as literals (COPY takes no parameters). */
function inlined (query: { sql: string, params: unknown[] }): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = query.params[Number(n) - 1]
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
    if (typeof value === 'string') return pg.escapeLiteral(value)
    throw new Error(`cannot write parameter $${n} (${typeof value}) into COPY`)
  })
}

/**
 * The rows of a query as CSV with a header row, written by PostgreSQL itself (`COPY
 * (query) TO STDOUT (FORMAT csv, HEADER)`) on a connection of its own and streamed as it
 * comes: one pass, no row ever becomes a JavaScript object, so the process's memory stays
 * flat whatever the size. PostgreSQL only: `undefined` on PGlite. The connection goes back
 * to the pool when the copy ends, and is closed when the stream is destroyed before (the
 * client went away mid-copy). Resolves once the first data (or the end) has arrived, so a
 * failing query rejects here rather than in the middle of a response.
 */
export async function copyCsv (db: Db, query: { sql: string, params: unknown[] }): Promise<Readable | undefined> {
  const client = (db as unknown as { $client?: pg.Pool | PGlite }).$client
  if (!(client instanceof pg.Pool)) return undefined
  const conn = await client.connect()
  let released = false
  const release = (err?: Error) => {
    if (released) return
    released = true
    conn.release(err)
  }
  const stream = conn.query(copyTo(`copy (${inlined(query)}) to stdout (format csv, header)`))
  stream.on('end', () => release())
  stream.on('error', (err) => release(err))
  stream.on('close', () => release(stream.readableEnded ? undefined : new Error('copy abandoned before its end')))
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('readable', onReadable)
      stream.off('error', done)
      if (err !== undefined) reject(err)
      else resolve()
    }
    const onReadable = () => done()
    stream.on('readable', onReadable)
    stream.on('error', done)
  })
  return stream
}
