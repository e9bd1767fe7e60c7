import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import type { SQL } from 'drizzle-orm'
import pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import type { Db } from './client.ts'

/**
 * What the hot paths need beyond drizzle's query builder, for both drivers: named
 * statements, COPY into a table and COPY out of a query. Repositories call these with
 * whatever handle they hold (the database or a transaction on it); which driver answers
 * is decided here and nowhere else.
 */

type Connection = pg.Pool | pg.ClientBase | PGlite | Transaction

/**
 * The driver connection under a drizzle handle: the pool or the PGlite instance for the
 * database, the checked-out client or PGlite transaction for a transaction. Drizzle keeps
 * it on the handle's session, which it does not type as public: test/db-query.test.ts
 * checks that it is still found, so a drizzle upgrade cannot silently break it.
 */
export function connectionOf (db: Db): Connection {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client
  if (client === undefined) throw new Error('no driver connection under this database handle')
  return client as Connection
}

const isPg = (c: Connection): c is pg.Pool | pg.ClientBase => c instanceof pg.Pool || c instanceof pg.Client

/** Rows of a raw SQL query built with drizzle's `sql` (both drivers answer `{ rows }`). */
export async function queryRows<T> (db: Db, query: SQL): Promise<T[]> {
  const result = await db.execute(query) as unknown as { rows: T[] }
  return result.rows
}

/**
 * A statement in plain SQL with positional parameters. On PostgreSQL it runs as a named
 * statement: parsed and planned once per connection, then only bound and executed (for
 * the reads whose planning costs as much as their execution). PGlite runs in process and
 * has nothing to save: the text runs as is.
 *
 * Columns come back with the driver's own parsers, which differ between pg and PGlite
 * for int8, numeric, date and timestamps: statements cast what they select to `int` or
 * `text` so both drivers answer the same JavaScript values.
 */
export interface Statement<Row> {
  readonly name: string | undefined
  readonly text: string
  run: (db: Db, params: unknown[]) => Promise<Row[]>
}

/** `name` undefined: the text runs unnamed on PostgreSQL too (planned at every run). */
export function statement<Row> (name: string | undefined, text: string): Statement<Row> {
  return {
    name,
    text,
    async run (db, params) {
      const connection = connectionOf(db)
      if (isPg(connection)) return (await connection.query(name === undefined ? { text, values: params } : { name, text, values: params })).rows as Row[]
      return (await connection.query<Row>(text, params)).rows
    }
  }
}

/**
 * COPY into a table inside the caller's transaction, fed with lines of COPY's text format.
 * On PostgreSQL the lines stream to the server as they are written (the server works on
 * the first rows while the caller prepares the next); PGlite takes COPY's input as one
 * blob, so the lines are held and sent at `end()`. Either way a failure (a unique key
 * already stored, say) rejects `end()` with the server's error, and `abort()` stops it;
 * the caller rolls its savepoint back after either.
 */
export interface CopyIn {
  /** Resolves when the stream can take more (backpressure). */
  write: (text: string) => Promise<void>
  /** The error that already ended the COPY, if any (it is also what end() rejects with). */
  failure: () => Error | undefined
  end: () => Promise<void>
  abort: () => Promise<void>
}

export function copyIn (db: Db, table: string, columns: readonly string[]): CopyIn {
  const connection = connectionOf(db)
  const list = columns.map((c) => pg.escapeIdentifier(c)).join(', ')
  if (isPg(connection)) {
    if (connection instanceof pg.Pool) throw new Error('COPY runs inside a transaction')
    // The rows of a statement are held by the caller anyway: a large buffer lets write()
    // hand each batch to the socket without waiting for 'drain' after every call.
    const stream = connection.query(copyFrom(`copy ${pg.escapeIdentifier(table)} (${list}) from stdin`, { highWaterMark: 4 << 20 }))
    let failure: Error | undefined
    stream.on('error', (err) => { failure ??= err })
    const ended = finished(stream).then(() => {}, (err: Error) => { failure ??= err })
    return {
      async write (text) {
        if (failure !== undefined || stream.write(text)) return
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done)
            stream.off('close', done)
            resolve()
          }
          stream.on('drain', done)
          stream.on('close', done)
        })
      },
      failure: () => failure,
      async end () {
        if (failure === undefined) stream.end()
        await ended
        if (failure !== undefined) throw failure
      },
      async abort () {
        if (!stream.destroyed) stream.destroy()
        await ended
      }
    }
  }
  let held: string[] = []
  return {
    async write (text) { held.push(text) },
    failure: () => undefined,
    async end () {
      const blob = new Blob(held)
      held = []
      await connection.query(`copy ${pg.escapeIdentifier(table)} (${list}) from '/dev/blob'`, [], { blob })
    },
    async abort () { held = [] }
  }
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
 * (query) TO ... (FORMAT csv, HEADER)`): no row ever becomes a JavaScript object.
 *
 * On PostgreSQL it runs on a connection of its own and streams as it comes, so the
 * process's memory stays flat whatever the size; the connection goes back to the pool
 * when the copy ends, and is closed when the stream is destroyed before (the client went
 * away mid-copy). Resolves once the first data (or the end) has arrived, so a failing
 * query rejects here rather than in the middle of a response.
 *
 * PGlite writes COPY's output as one blob: the copy holds its single connection only for
 * as long as the database writes it, never while a slow client downloads.
 */
export async function copyOut (db: Db, query: { sql: string, params: unknown[] }): Promise<Readable> {
  const text = `copy (${inlined(query)}) to %s (format csv, header)`
  const connection = connectionOf(db)
  if (!isPg(connection)) {
    const result = await connection.query(text.replace('%s', "'/dev/blob'"))
    return Readable.from([Buffer.from(await result.blob!.arrayBuffer())])
  }
  if (!(connection instanceof pg.Pool)) throw new Error('an export streams on a connection of its own, outside a transaction')
  const conn = await connection.connect()
  let released = false
  const release = (err?: Error) => {
    if (released) return
    released = true
    conn.release(err)
  }
  const stream = conn.query(copyTo(text.replace('%s', 'stdout')))
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
