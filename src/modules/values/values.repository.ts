import type { Readable } from 'node:stream'
import { and, eq, gt, gte, isNull, lte, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { copyOut, statement, type Statement } from '../../db/query.ts'
import { subtreeOf } from '../../db/region-tree.ts'
import { yearlyValues } from '../../db/schema.ts'
import { CSV_COLUMNS } from './values.csv.ts'
import { DIMENSIONS, decodeStored, SELECT_VALUE, selectList, type StoredValue, type ValueKind } from './values.model.ts'
import type { Breakdown } from './values.schemas.ts'

/** What GET /v1/values filters by (every present filter applies). */
export interface ValueFilter {
  region?: string
  includeDescendants?: boolean
  indicator?: string
  kind?: ValueKind
  plan?: string
  from?: number
  to?: number
  status?: NonNullable<StoredValue['status']>
  /** Exactly this breakdown (`{}`: totals only), or `*`: any. */
  breakdown: Breakdown | '*'
}

const v = yearlyValues
const ph = (name: string) => sql.placeholder(name)

/**
 * The filter's WHERE clause, written once for every read of the list (pages, the latest
 * actuals, the CSV export): each present filter is a named placeholder, bound by
 * `paramsOf`. The clause's shape (which filters are present, which breakdown dimensions
 * are fixed) names the prepared statement, so one shape always has the same text.
 */
function whereOf (f: ValueFilter): SQL | undefined {
  const b = f.breakdown
  return and(
    f.region === undefined ? undefined : f.includeDescendants === true ? sql`${v.regionCode} in ${subtreeOf(ph('region'))}` : eq(v.regionCode, ph('region')),
    f.indicator !== undefined ? eq(v.indicatorCode, ph('indicator')) : undefined,
    f.kind !== undefined ? eq(v.kind, ph('kind')) : undefined,
    f.plan !== undefined ? eq(v.planId, ph('plan')) : undefined,
    f.from !== undefined ? gte(v.fromYear, ph('from')) : undefined,
    f.to !== undefined ? lte(v.year, ph('to')) : undefined,
    f.status !== undefined ? eq(v.status, ph('status')) : undefined,
    ...(b === '*' ? [] : DIMENSIONS.map((d) => (b[d] !== undefined ? eq(v[d], ph(d)) : isNull(v[d]))))
  )
}

function shapeOf (f: ValueFilter): string {
  const flag = (present: boolean, c: string) => (present ? c : '')
  const b = f.breakdown === '*' ? 'any' : DIMENSIONS.map((d) => flag(f.breakdown !== '*' && f.breakdown[d] !== undefined, d[0]!)).join('')
  return [
    f.region === undefined ? '' : f.includeDescendants === true ? 'D' : 'r',
    flag(f.indicator !== undefined, 'i'), flag(f.kind !== undefined, 'k'), flag(f.plan !== undefined, 'p'),
    flag(f.from !== undefined, 'f'), flag(f.to !== undefined, 't'), flag(f.status !== undefined, 's'), `_b${b}`
  ].join('')
}

function paramsOf (f: ValueFilter): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const k of ['region', 'indicator', 'kind', 'plan', 'from', 'to', 'status'] as const) if (f[k] !== undefined) params[k] = f[k]
  if (f.breakdown !== '*') for (const d of DIMENSIONS) if (f.breakdown[d] !== undefined) params[d] = f.breakdown[d]
  return params
}

/** A query built by drizzle with named placeholders, as text and the placeholders' names in order. */
function compiled (query: { toSQL: () => { sql: string, params: unknown[] } }): { text: string, names: string[] } {
  const { sql: text, params } = query.toSQL()
  const names = params.map((p) => {
    const name = (p as { name?: unknown }).name
    if (typeof name !== 'string') throw new Error('every parameter of a values statement must be a placeholder')
    return name
  })
  return { text, names }
}

/**
 * Statements per filter shape. 16 breakdown combinations times the optional filters make a
 * few thousand possible shapes; past this many a shape runs unnamed (planned each time),
 * so no client can fill every connection with prepared statements.
 */
const MAX_PREPARED_SHAPES = 64
const shapes = new Map<string, { run: Statement<Record<string, unknown>>, names: string[] }>()

function shaped (db: Db, name: string, build: () => { text: string, names: string[] }) {
  let known = shapes.get(name)
  if (known === undefined) {
    const { text, names } = build()
    known = { run: statement(shapes.size < MAX_PREPARED_SHAPES ? name : undefined, text), names }
    if (shapes.size < MAX_PREPARED_SHAPES) shapes.set(name, known)
  }
  return known
}

const run = async (db: Db, s: { run: Statement<Record<string, unknown>>, names: string[] }, params: Record<string, unknown>) =>
  (await s.run.run(db, s.names.map((n) => params[n]))).map(decodeStored)

const getById = statement<Record<string, unknown>>('values_get', `select ${selectList()} from yearly_values where id = $1`)
const getForUpdate = statement<Record<string, unknown>>('values_get_for_update', `select ${selectList()} from yearly_values where id = $1 for update`)
const targetsOfPlan = statement<Record<string, unknown>>('values_of_plan', `select ${selectList()} from yearly_values where plan_id = $1 order by year, id`)
const targetsOfPlanForUpdate = statement<Record<string, unknown>>('values_of_plan_for_update', `select ${selectList()} from yearly_values where plan_id = $1 order by id for update`)

/**
 * The CSV export's columns as PostgreSQL writes them with COPY (FORMAT csv): the columns
 * the import accepts (values.csv.ts), in that order and under those names. COPY writes an
 * empty string as `""` and null as an empty field: empty strings are made null, so an
 * empty cell always reads back as an absent field.
 */
const EXPORT_COLUMNS: Record<typeof CSV_COLUMNS[number], SQLWrapper> = {
  kind: v.kind,
  planId: v.planId,
  regionCode: v.regionCode,
  indicatorCode: v.indicatorCode,
  fromYear: v.fromYear,
  year: v.year,
  breakdown: sql`concat_ws(',', 'category:' || ${v.category}, 'grade:' || ${v.grade}, 'sex:' || ${v.sex}, 'area:' || ${v.area})`,
  value: v.value,
  status: v.status,
  numerator: v.numerator,
  denominator: v.denominator,
  asOf: v.asOf,
  comparator: v.comparator,
  binding: v.binding,
  baselineYear: v.baselineYear,
  baselineValue: v.baselineValue,
  qualitative: v.qualitative,
  source: v.source,
  note: v.note
}
/**
 * Text columns a spreadsheet could run as a formula (OWASP "CSV injection"): a cell
 * starting with = + - @, a tab, a carriage return, or an apostrophe gets a leading
 * apostrophe, which the import removes again (values.cells.ts, the same rule). Numbers,
 * years and dates are never prefixed: `-5` in a number column is a number.
 */
const NOT_TEXT = new Set<string>(['fromYear', 'year', 'value', 'numerator', 'denominator', 'asOf', 'baselineYear', 'baselineValue'])
const neutralised = (cell: SQL) => sql`case when left(${cell}, 1) in ('=', '+', '-', '@', chr(9), chr(13), '''') then '''' || ${cell} else ${cell} end`
const EXPORT_SELECT = sql.join(CSV_COLUMNS.map((name) => {
  const text = sql`nullif(${EXPORT_COLUMNS[name]}::text, '')`
  return sql`${NOT_TEXT.has(name) ? text : neutralised(text)} as ${sql.identifier(name)}`
}), sql`, `)

/** The cursor key of a list page's last value: the list is ordered by (year, id). */
export const listCursorKey = (r: Pick<StoredValue, 'year' | 'id'>) => [r.year, r.id]

export function createValuesRepository (db: Db) {
  return {
    async get (id: number, forUpdate = false): Promise<StoredValue | undefined> {
      const [row] = await (forUpdate ? getForUpdate : getById).run(db, [id])
      return row === undefined ? undefined : decodeStored(row)
    },

    /** A page in list order (year, id): chronological, stable under inserts; one row more than `limit` when another page follows. */
    async list (f: ValueFilter & { after?: [number, number], limit: number }): Promise<StoredValue[]> {
      const after = f.after !== undefined
      const s = shaped(db, `values_list_${shapeOf(f)}${after ? '_a' : ''}`, () => compiled(db.select({ row: SELECT_VALUE }).from(v)
        .where(and(whereOf(f), after ? or(gt(v.year, ph('afterYear')), and(eq(v.year, ph('afterYear')), gt(v.id, ph('afterId')))) : undefined))
        .orderBy(v.year, v.id).limit(ph('limit'))))
      return run(db, s, { ...paramsOf(f), limit: f.limit + 1, afterYear: f.after?.[0], afterId: f.after?.[1] })
    },

    /**
     * Per region, indicator and breakdown, the most recent actual: the latest year, and for
     * one year the shortest period (a single-year figure before a multi-year total).
     * Ordered by (region, indicator, id).
     */
    async listLatest (f: ValueFilter & { after?: [string, string, number], limit: number }): Promise<StoredValue[]> {
      const after = f.after !== undefined
      const filter = { ...f, kind: 'actual' as const }
      const s = shaped(db, `values_latest_${shapeOf(filter)}${after ? '_a' : ''}`, () => {
        const latest = compiled(db.selectDistinctOn([v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area], { row: SELECT_VALUE }).from(v)
          .where(whereOf(filter))
          .orderBy(v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area, sql`${v.year} desc`, sql`${v.fromYear} desc`))
        const n = latest.names.length
        const names = [...latest.names, ...(after ? ['afterRegion', 'afterIndicator', 'afterId'] : []), 'limit']
        const text = `select * from (${latest.text}) latest
          ${after ? `where (region_code, indicator_code, id::bigint) > ($${n + 1}, $${n + 2}, $${n + 3})` : ''}
          order by region_code, indicator_code, id::bigint limit $${names.length}`
        return { text, names }
      })
      return run(db, s, { ...paramsOf(filter), limit: f.limit + 1, afterRegion: f.after?.[0], afterIndicator: f.after?.[1], afterId: f.after?.[2] })
    },

    /** Every target of a plan, in list order; `forUpdate` locks them (ordered by id, the lock order). */
    async targetsOfPlan (planId: string, forUpdate = false): Promise<StoredValue[]> {
      return (await (forUpdate ? targetsOfPlanForUpdate : targetsOfPlan).run(db, [planId])).map(decodeStored)
    },

    /**
     * Every value matching the filter, in list order, as CSV with a header row written by
     * the database (COPY): one query, one pass, no row becomes a JavaScript object (keyset
     * pages would sort the whole match again for every page, since no index is in (year,
     * id) order).
     */
    async exportCsv (f: ValueFilter): Promise<Readable> {
      const query = db.select({ row: EXPORT_SELECT }).from(v).where(whereOf(f)).orderBy(v.year, v.id)
      const { text, names } = compiled(query)
      const params = paramsOf(f)
      return copyOut(db, { sql: text, params: names.map((n) => params[n]) })
    }
  }
}
