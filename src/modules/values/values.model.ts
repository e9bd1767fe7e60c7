import { getTableColumns, sql, type SQL } from 'drizzle-orm'
import { getTableConfig } from 'drizzle-orm/pg-core'
import type { Static } from 'typebox'
import { yearlyValues } from '../../db/schema.ts'
import type { Breakdown, ValueCreate } from './values.schemas.ts'

/**
 * The one model of a yearly value. Three shapes, each with one job:
 * - `ValueInput`: what a client sends (the body of POST /v1/values; a PATCH merged onto
 *   the stored value, a row of a plan's target table and a row of an import take the same
 *   shape and pass the same checks);
 * - `ValueFields`: what a write stores, the columns a client decides, made by checkValues;
 * - `StoredValue`: a stored row as every read hands it on.
 * The column lists of every statement (reads, insert, update, upsert, COPY, history) are
 * derived here from the drizzle table, so a new column is added in one place.
 */
export type ValueInput = Static<typeof ValueCreate>
export type ValueKind = ValueInput['kind']

type Row = typeof yearlyValues.$inferSelect
const SERVER_OWNED = ['id', 'revision', 'updatedBy', 'createdAt', 'updatedAt'] as const
export type ValueFields = Omit<Row, typeof SERVER_OWNED[number]>
/** Timestamps as the API writes them: ISO 8601 in UTC, to the millisecond. */
export type StoredValue = Omit<Row, 'createdAt' | 'updatedAt'> & { createdAt: string, updatedAt: string }

type Field = keyof Row
const columns = getTableColumns(yearlyValues)
const fieldOfColumn = new Map(Object.entries(columns).map(([field, column]) => [column.name, field as Field]))
const natural = getTableConfig(yearlyValues).uniqueConstraints.find((u) => u.name === 'yearly_values_natural_key')
if (natural === undefined) throw new Error('yearly_values has no natural key constraint')

/** Every field, in the table's column order. */
export const ALL_FIELDS = Object.keys(columns) as Field[]
/** The fields a write sets: everything but the server's own bookkeeping. */
export const WRITTEN_FIELDS = ALL_FIELDS.filter((f): f is keyof ValueFields => !(SERVER_OWNED as readonly string[]).includes(f))
/** The natural key (the unique constraint's columns): period and breakdown are part of it. */
export const KEY_FIELDS = natural.columns.map((c) => fieldOfColumn.get(c.name)!) as Array<keyof ValueFields>
/** What a write may change for a key; comparing these decides "unchanged". */
export const CONTENT_FIELDS = WRITTEN_FIELDS.filter((f) => !KEY_FIELDS.includes(f))

export const columnOf = (field: Field): string => columns[field].name
const ident = (field: Field) => `"${columnOf(field)}"`

/**
 * The select list of every read of whole values. Columns whose JavaScript type differs
 * between pg and PGlite (int8, numeric, date) come as text; the two timestamps as the API
 * writes them, so no Date is made only to be formatted back.
 */
export function selectList (alias?: string): string {
  const q = alias === undefined ? '' : `${alias}.`
  return ALL_FIELDS.map((field) => {
    const type = columns[field].getSQLType()
    if (type.startsWith('timestamp')) return `to_char(${q}${ident(field)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${ident(field)}`
    if (type === 'bigint' || type.startsWith('numeric') || type === 'date') return `${q}${ident(field)}::text as ${ident(field)}`
    return `${q}${ident(field)}`
  }).join(', ')
}
export const SELECT_VALUE: SQL = sql.raw(selectList())

/** A row selected with SELECT_LIST (column names as keys) as a StoredValue. */
export function decodeStored (raw: Record<string, unknown>): StoredValue {
  const out: Record<string, unknown> = {}
  for (const field of ALL_FIELDS) out[field] = raw[columnOf(field)]
  out.id = Number(out.id)
  return out as StoredValue
}

/**
 * `(a.c1, a.c2, ...) is distinct from (b.c1, b.c2, ...)` over `fields`: the one test of
 * whether a write changes a stored value (a write that changes nothing is not made: no
 * revision, no history, no feed entry).
 */
export function differs (a: string, b: string, fields: ReadonlyArray<keyof ValueFields>): string {
  const list = (alias: string) => fields.map((f) => `${alias}.${ident(f)}`).join(', ')
  return `(${list(a)}) is distinct from (${list(b)})`
}

/** A value keyed by column, for json_populate_record(null::yearly_values, ...). */
export function asRecord (r: ValueFields): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of WRITTEN_FIELDS) out[columnOf(f)] = r[f]
  return out
}

/** A key field as text; anything but a string or number (no valid value has one there) gives a mark no valid key contains. */
function keyPart (v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '\u0000'
}

/** The natural key of a value, as text. */
export function naturalKey (v: Pick<ValueFields, typeof KEY_FIELDS[number]>): string {
  return KEY_FIELDS.map((f) => keyPart(v[f])).join('|')
}

/** Values in natural-key order, the order every bulk write takes (concurrent writers meet their keys in the same order: no deadlock). */
export function sortedByKey<T extends Pick<ValueFields, typeof KEY_FIELDS[number]>> (rows: readonly T[]): T[] {
  const keyed = rows.map((row) => ({ row, key: naturalKey(row) }))
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return keyed.map((k) => k.row)
}

/**
 * The natural key of a value as sent, before any check: for a value that passes its checks
 * it is naturalKey() of the fields checkValues makes of it (an actual has no plan, fromYear
 * defaults to year, the breakdown's parts are the key's). A bulk import sorts by it, so rows
 * sharing a key are neighbours before any row is checked. What it gives for a malformed
 * value does not matter: its checks reject it.
 */
export function naturalKeyAsSent (value: unknown): string {
  if (typeof value !== 'object' || value === null) return ''
  const v = value as Record<string, unknown>
  const b = (typeof v.breakdown === 'object' && v.breakdown !== null ? v.breakdown : {}) as Record<string, unknown>
  return naturalKey({
    ...b,
    kind: v.kind,
    planId: v.kind === 'target' ? v.planId : null,
    regionCode: v.regionCode,
    indicatorCode: v.indicatorCode,
    fromYear: v.fromYear ?? v.year,
    year: v.year
  } as never)
}

export const DIMENSIONS = ['category', 'grade', 'sex', 'area'] as const satisfies ReadonlyArray<keyof Breakdown>

export function breakdownOf (row: Pick<ValueFields, typeof DIMENSIONS[number]>): Breakdown | null {
  if (DIMENSIONS.every((d) => row[d] === null)) return null
  const b: Record<string, string> = {}
  for (const d of DIMENSIONS) if (row[d] !== null) b[d] = row[d]
  return b as Breakdown
}

/** A stored value back into the input shape, so a PATCH can be merged and checked again. */
export function toInput (row: StoredValue): ValueInput {
  const input: Record<string, unknown> = { breakdown: breakdownOf(row) }
  for (const f of WRITTEN_FIELDS) if (!(DIMENSIONS as readonly string[]).includes(f) && row[f] !== null) input[f] = row[f]
  return input as ValueInput
}

/**
 * The API representation of a stored value. Written out field by field rather than by
 * rest/spread: it runs for every row of every list page.
 */
export function toValueResource (row: StoredValue) {
  return {
    id: row.id,
    kind: row.kind,
    planId: row.planId,
    regionCode: row.regionCode,
    indicatorCode: row.indicatorCode,
    fromYear: row.fromYear,
    year: row.year,
    value: row.value,
    status: row.status,
    numerator: row.numerator,
    denominator: row.denominator,
    asOf: row.asOf,
    comparator: row.comparator,
    binding: row.binding,
    baselineYear: row.baselineYear,
    baselineValue: row.baselineValue,
    qualitative: row.qualitative,
    source: row.source,
    note: row.note,
    revision: row.revision,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    breakdown: breakdownOf(row)
  }
}
