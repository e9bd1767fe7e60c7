import { inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { isUniqueViolation } from '../../db/errors.ts'
import { copyIn, statement, type CopyIn } from '../../db/query.ts'
import { yearlyValues } from '../../db/schema.ts'
import {
  asRecord, CONTENT_FIELDS, columnOf, decodeStored, differs, KEY_FIELDS, selectList, WRITTEN_FIELDS,
  type StoredValue, type ValueFields
} from './values.model.ts'

export interface WriteCounts { created: number, updated: number, unchanged: number }

/** Rows per COPY or upsert statement of a bulk write. */
export const BULK_STATEMENT_ROWS = 5000

const COLUMNS = WRITTEN_FIELDS.map((f) => `"${columnOf(f)}"`).join(', ')
const BOOKKEEPING = 'revision = v.revision + 1, updated_at = now(), updated_by = registry_actor()'

/** One new value; no row comes back when its natural key is taken. */
const insertValue = statement<Record<string, unknown>>('values_insert', `insert into yearly_values (${COLUMNS})
  select ${COLUMNS} from json_populate_record(null::yearly_values, $1::json)
  on conflict on constraint yearly_values_natural_key do nothing
  returning ${selectList()}`)

/** The id of the stored value with this natural key (the series index finds its few candidates). */
const idOfKey = statement<{ id: string }>('values_id_of_key', `select v.id::text as id
  from yearly_values v, json_populate_record(null::yearly_values, $1::json) as n
  where v.region_code = n.region_code and v.indicator_code = n.indicator_code and v.year = n.year
    and not (${differs('v', 'n', KEY_FIELDS)})`)

/** One value replaced by id; no row comes back when nothing would change. */
const updateValue = statement<Record<string, unknown>>('values_update', `update yearly_values as v set ${WRITTEN_FIELDS.map((f) => `"${columnOf(f)}" = n."${columnOf(f)}"`).join(', ')}, ${BOOKKEEPING}
  from json_populate_record(null::yearly_values, $2::json) as n
  where v.id = $1 and ${differs('v', 'n', WRITTEN_FIELDS)}
  returning ${selectList('v')}`)

/**
 * Values by natural key in one statement, whatever their number: inserted when the key is
 * new, updated when the content differs, left alone when it is the same (no revision), in
 * the order given (natural-key order keeps concurrent writers from deadlocking). The batch
 * travels as one JSON parameter keyed by column and is unpacked into the table's own row
 * type, so every column keeps its type without a list here.
 */
const upsertValues = statement<{ created: number, updated: number }>('values_upsert', `with written as (
  insert into yearly_values as v (${COLUMNS})
  select ${COLUMNS} from json_populate_recordset(null::yearly_values, $1::json) with ordinality as t
  order by t.ordinality
  on conflict on constraint yearly_values_natural_key do update set
    ${CONTENT_FIELDS.map((f) => `"${columnOf(f)}" = excluded."${columnOf(f)}"`).join(', ')}, ${BOOKKEEPING}
  where ${differs('v', 'excluded', CONTENT_FIELDS)}
  returning (xmax = 0) as inserted)
select (count(*) filter (where inserted))::int as created, (count(*) filter (where not inserted))::int as updated from written`)

/** A field of COPY's text format: \N for null, backslash escapes for the separators. */
function copyField (v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  const text = String(v)
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : text
}

function copyText (rows: readonly ValueFields[]): string {
  let out = ''
  for (const r of rows) out += WRITTEN_FIELDS.map((f) => copyField(r[f])).join('\t') + '\n'
  return out
}

/**
 * The one way values are written, inside the caller's transaction: every write path
 * (POST, PATCH, DELETE, a plan's target table, the bulk import, the seed loader) goes
 * through it. Rows must have passed checkValues.
 *
 * `write` and `finish` are the bulk path: rows handed over in natural-key order are upserted,
 * BULK_STATEMENT_ROWS per statement, while the caller checks the next ones. Its fast path is
 * COPY into the table (the database's multi-row insert path: about 30% less database time
 * than the upsert statement for new rows), each statement inside a savepoint. When any key of
 * a COPY is already stored (or is stored meanwhile by a concurrent writer), the COPY fails on
 * the unique key and is rolled back to its savepoint; its rows, and every later row, then go
 * through the upsert statement. So a first load runs at COPY speed and a re-sent file costs
 * one failed COPY (usually at its first row).
 *
 * `abandon` stops a COPY under way (the caller then rolls the transaction back); after an
 * error of `write` or `finish` the writer has already abandoned it. Either way the
 * connection is free for the next statement.
 */
export function createValueWriter (tx: Db) {
  let useCopy = true
  const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 }
  const add = (c: WriteCounts) => {
    counts.created += c.created
    counts.updated += c.updated
    counts.unchanged += c.unchanged
  }
  // The rows of the statement under way: COPY's, kept for the upsert should the COPY fail,
  // or those waiting for the next upsert statement.
  let pending: ValueFields[] = []
  let copy: CopyIn | undefined

  async function upsert (rows: readonly ValueFields[]): Promise<WriteCounts> {
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0 }
    const [result] = await upsertValues.run(tx, [JSON.stringify(rows.map(asRecord))])
    const created = result?.created ?? 0
    const updated = result?.updated ?? 0
    return { created, updated, unchanged: rows.length - created - updated }
  }

  /** Ends the COPY under way: released when it succeeded, otherwise rolled back, and its rows upserted when its only fault was a stored key. */
  async function endCopy (how: 'end' | 'abandon') {
    const current = copy!
    copy = undefined
    let failure: unknown
    if (how === 'end') {
      try {
        await current.end()
      } catch (err) {
        failure = err
      }
    } else {
      await current.abort()
    }
    if (how === 'end' && failure === undefined) {
      await tx.execute(sql`release savepoint bulk_copy`)
      add({ created: pending.length, updated: 0, unchanged: 0 })
      pending = []
      return
    }
    await tx.execute(sql`rollback to savepoint bulk_copy`)
    if (how === 'abandon') return
    if (!isUniqueViolation(failure)) throw failure
    useCopy = false
    const rows = pending
    pending = []
    add(await upsert(rows))
  }

  async function abandon () {
    if (copy !== undefined) await endCopy('abandon')
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
    /** One new value (POST), or the id of the value that already has its natural key. */
    async insert (fields: ValueFields): Promise<{ created: StoredValue } | { existingId: number }> {
      const [row] = await insertValue.run(tx, [JSON.stringify(asRecord(fields))])
      if (row !== undefined) return { created: decodeStored(row) }
      return { existingId: (await this.idOfKey(fields))! }
    },

    /** The id of the stored value with the natural key of `fields`, if any. */
    async idOfKey (fields: ValueFields): Promise<number | undefined> {
      const [row] = await idOfKey.run(tx, [JSON.stringify(asRecord(fields))])
      return row === undefined ? undefined : Number(row.id)
    },

    /** Replaces the value with this id (PATCH); undefined when nothing would change. */
    async update (id: number, fields: ValueFields): Promise<StoredValue | undefined> {
      const [row] = await updateValue.run(tx, [id, JSON.stringify(asRecord(fields))])
      return row === undefined ? undefined : decodeStored(row)
    },

    async remove (ids: readonly number[]): Promise<void> {
      if (ids.length > 0) await tx.delete(yearlyValues).where(inArray(yearlyValues.id, [...ids]))
    },

    /** Upserts a batch by natural key at once. */
    upsert,

    /** Hands checked rows to the bulk path, in natural-key order. */
    write: (rows: readonly ValueFields[]) => guarded(async () => {
      if (rows.length === 0) return
      pending.push(...rows)
      if (useCopy) {
        if (copy === undefined) {
          await tx.execute(sql`savepoint bulk_copy`)
          copy = copyIn(tx, 'yearly_values', WRITTEN_FIELDS.map(columnOf))
        }
        await copy.write(copyText(rows))
        if (copy.failure() !== undefined || pending.length >= BULK_STATEMENT_ROWS) await endCopy('end')
        return
      }
      while (pending.length >= BULK_STATEMENT_ROWS) {
        const batch = pending.slice(0, BULK_STATEMENT_ROWS)
        pending = pending.slice(BULK_STATEMENT_ROWS)
        add(await upsert(batch))
      }
    }),

    /** Writes what the bulk path still holds and answers its counts. */
    finish: () => guarded(async (): Promise<WriteCounts> => {
      if (copy !== undefined) await endCopy('end')
      if (pending.length > 0) {
        const rows = pending
        pending = []
        add(await upsert(rows))
      }
      return { ...counts }
    }),

    abandon
  }
}
