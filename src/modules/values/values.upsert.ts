import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type pg from 'pg'
import { sql } from 'drizzle-orm'
import { from as copyFrom } from 'pg-copy-streams'
import { pgClientOf, queryRows, type Db } from '../../db/client.ts'
import { rootCause } from '../../db/errors.ts'
import type { ValueData } from './values.rules.ts'

export interface UpsertCounts { created: number, updated: number, unchanged: number }

/**
 * Set-based upsert of checked values by natural key: one `INSERT ... SELECT FROM json_to_recordset`
 * per batch, whatever its size (drizzle's row-object builder is CPU-bound on large
 * batches). A row whose stored content is identical is left alone (no revision bump),
 * so sending the same data twice changes nothing.
 * Answers how many rows were created, updated and left unchanged (only the counts travel
 * back, not the rows).
 */
export async function upsertValues (db: Db, rows: ValueData[]): Promise<UpsertCounts> {
  if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0 }
  // The batch travels as one JSON parameter (JSON.stringify is native; binding 22 arrays
  // of 5,000 elements cost pg's array escaping some 25 ms per batch) and is unpacked with
  // json_to_recordset; enums are cast per column (PGlite binds the same text).
  const [counts] = await queryRows<{ created: number, updated: number }>(db, sql`
    with input as (
      select * from rows from (json_to_recordset(${JSON.stringify(rows)}::json) as (
        kind text, "planId" text, "regionCode" text, "indicatorCode" text, "fromYear" int, year int,
        category text, grade text, sex text, area text,
        value text, status text, numerator text, denominator text, "asOf" text,
        comparator text, binding text, "baselineYear" int, "baselineValue" text,
        qualitative text, source text, note text)) with ordinality as t(
        kind, "planId", "regionCode", "indicatorCode", "fromYear", year, category, grade, sex, area,
        value, status, numerator, denominator, "asOf", comparator, binding, "baselineYear", "baselineValue",
        qualitative, source, note, n)
    )
    , written as (
    insert into yearly_values as v (kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area,
      value, status, numerator, denominator, as_of, comparator, binding, baseline_year, baseline_value, qualitative, source, note)
    select kind::value_kind, "planId", "regionCode", "indicatorCode", "fromYear", year,
      category::disability_category, grade::disability_grade, sex::sex, area::area,
      value::numeric, status::actual_status, numerator::numeric, denominator::numeric, "asOf"::date,
      comparator::comparator, binding::binding, "baselineYear", "baselineValue"::numeric, qualitative, source, note
    from input order by n
    on conflict on constraint yearly_values_natural_key do update set
      value = excluded.value, status = excluded.status, numerator = excluded.numerator, denominator = excluded.denominator,
      as_of = excluded.as_of, comparator = excluded.comparator, binding = excluded.binding,
      baseline_year = excluded.baseline_year, baseline_value = excluded.baseline_value, qualitative = excluded.qualitative,
      source = excluded.source, note = excluded.note,
      revision = v.revision + 1, updated_at = now(), updated_by = registry_actor()
    where (v.value, v.status, v.numerator, v.denominator, v.as_of, v.comparator, v.binding, v.baseline_year, v.baseline_value, v.qualitative, v.source, v.note)
      is distinct from
      (excluded.value, excluded.status, excluded.numerator, excluded.denominator, excluded.as_of, excluded.comparator, excluded.binding, excluded.baseline_year, excluded.baseline_value, excluded.qualitative, excluded.source, excluded.note)
    returning (xmax = 0) as inserted)
    select (count(*) filter (where inserted))::int as created, (count(*) filter (where not inserted))::int as updated from written`)
  const created = counts?.created ?? 0
  const updated = counts?.updated ?? 0
  return { created, updated, unchanged: rows.length - created - updated }
}

/** Rows per COPY or upsert statement of a bulk write. */
export const BULK_STATEMENT_ROWS = 5000

/**
 * Writes checked values for a bulk import, inside the caller's transaction, as they are
 * handed over (`write`, in natural-key order), so that the database works on the first rows
 * while the caller still checks the next ones.
 *
 * On PostgreSQL the rows go into a `COPY` into the table (PostgreSQL's multi-row insert
 * path, about 30% less database time than the upsert statement for new rows), streamed as
 * they come, at most BULK_STATEMENT_ROWS per statement, each inside a savepoint. When any
 * key of a statement is already stored (or is stored meanwhile by a concurrent writer), the
 * COPY fails on the unique key and is rolled back to its savepoint; its rows, and every later
 * row of the same writer, then go through the upsert statement instead. So a first load of
 * new values runs at COPY speed and a re-sent file costs one failed COPY (usually at its
 * first row). Rows must come in natural-key order, as for the upsert: concurrent writers
 * then meet their keys in the same order (no deadlock).
 * The embedded database has no COPY from a client stream: it always takes the upsert.
 *
 * `finish` writes what is left and answers the counts. `abandon` stops a COPY under way
 * (the caller then rolls the transaction back); after an error of `write` or `finish` the
 * writer has already abandoned it. Either way the connection is free for the next statement.
 */
export interface BulkWriter {
  write: (rows: ValueData[]) => Promise<void>
  finish: () => Promise<UpsertCounts>
  abandon: () => Promise<void>
}

export function createBulkWriter (tx: Db): BulkWriter {
  const client = pgClientOf(tx)
  let useCopy = client !== undefined
  const counts: UpsertCounts = { created: 0, updated: 0, unchanged: 0 }
  const add = (c: UpsertCounts) => {
    counts.created += c.created
    counts.updated += c.updated
    counts.unchanged += c.unchanged
  }
  // The rows of the statement under way: COPY's, kept for the upsert should the COPY fail,
  // or those waiting for the next upsert statement.
  let pending: ValueData[] = []
  let copy: { stream: Writable, failure?: Error, ended: Promise<void> } | undefined

  const startCopy = async (conn: pg.ClientBase) => {
    await conn.query('savepoint bulk_copy')
    // The rows of a statement are held anyway: a large buffer lets write() hand each batch
    // to the socket without waiting for 'drain' after every call.
    const stream = conn.query(copyFrom(COPY_VALUES, { highWaterMark: 4 << 20 }))
    const state: NonNullable<typeof copy> = { stream, ended: finished(stream).then(() => {}, (err: Error) => { state.failure ??= err }) }
    stream.on('error', (err) => { state.failure ??= err })
    copy = state
  }

  /** Ends the COPY under way: released when it succeeded, otherwise rolled back, and its rows upserted when its only fault was a stored key. */
  const endCopy = async (conn: pg.ClientBase, how: 'end' | 'abandon') => {
    const current = copy!
    copy = undefined
    if (how === 'end' && current.failure === undefined) current.stream.end()
    else if (!current.stream.destroyed) current.stream.destroy()
    await current.ended
    if (how === 'end' && current.failure === undefined) {
      await conn.query('release savepoint bulk_copy')
      add({ created: pending.length, updated: 0, unchanged: 0 })
      pending = []
      return
    }
    await conn.query('rollback to savepoint bulk_copy')
    if (how === 'abandon') return
    const failure = current.failure ?? new Error('COPY failed')
    if ((rootCause(failure) as { code?: string }).code !== '23505') throw failure
    useCopy = false
    const rows = pending
    pending = []
    add(await upsertValues(tx, rows))
  }

  const abandon = async () => {
    if (copy !== undefined && client !== undefined) await endCopy(client, 'abandon')
    pending = []
  }
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      await abandon().catch(() => {}) // the connection may be gone with the error
      throw err
    }
  }

  return {
    write: (rows) => guarded(async () => {
      if (rows.length === 0) return
      if (useCopy && client !== undefined) {
        if (copy === undefined) await startCopy(client)
        const current = copy!
        pending.push(...rows)
        if (current.failure === undefined && !current.stream.write(copyText(rows))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              current.stream.off('drain', done)
              current.stream.off('close', done)
              resolve()
            }
            current.stream.on('drain', done)
            current.stream.on('close', done)
          })
        }
        if (current.failure !== undefined || pending.length >= BULK_STATEMENT_ROWS) await endCopy(client, 'end')
        return
      }
      pending.push(...rows)
      while (pending.length >= BULK_STATEMENT_ROWS) {
        const batch = pending.slice(0, BULK_STATEMENT_ROWS)
        pending = pending.slice(BULK_STATEMENT_ROWS)
        add(await upsertValues(tx, batch))
      }
    }),
    finish: () => guarded(async () => {
      if (copy !== undefined && client !== undefined) await endCopy(client, 'end')
      if (pending.length > 0) {
        const rows = pending
        pending = []
        add(await upsertValues(tx, rows))
      }
      return { ...counts }
    }),
    abandon
  }
}

const COPY_VALUES = `copy yearly_values (kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area,
  value, status, numerator, denominator, as_of, comparator, binding, baseline_year, baseline_value, qualitative, source, note) from stdin`

/** A field of COPY's text format: \N for null, backslash escapes for the separators. */
function field (v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'number') return String(v)
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v
}

function copyText (rows: ValueData[]): string {
  let out = ''
  for (const r of rows) {
    out += `${r.kind}\t${field(r.planId)}\t${field(r.regionCode)}\t${field(r.indicatorCode)}\t${field(r.fromYear)}\t${field(r.year)}\t${field(r.category)}\t${field(r.grade)}\t${field(r.sex)}\t${field(r.area)}\t` +
      `${field(r.value)}\t${field(r.status)}\t${field(r.numerator)}\t${field(r.denominator)}\t${field(r.asOf)}\t${field(r.comparator)}\t${field(r.binding)}\t${field(r.baselineYear)}\t${field(r.baselineValue)}\t${field(r.qualitative)}\t${field(r.source)}\t${field(r.note)}\n`
  }
  return out
}
