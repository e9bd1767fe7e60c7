import type { Readable } from 'node:stream'
import { and, asc, desc, eq, gt, gte, inArray, isNull, lte, or, sql, type Placeholder, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { copyCsv, prepareStatement, type Statement } from '../../db/prepared.ts'
import { currentActor, regions, yearlyValues } from '../../db/schema.ts'
import { CSV_COLUMNS } from '../imports/imports.csv.ts'
import { breakdownText, csvLine } from './values.csv.ts'
import type { Breakdown } from './values.schemas.ts'
import type { ValueData, ValueKind, ValueRecord, ValueRow } from './values.rules.ts'

export interface ValueFilter {
  region?: string
  includeDescendants?: boolean
  indicator?: string
  kind?: ValueKind
  plan?: string
  from?: number
  to?: number
  status?: NonNullable<ValueRow['status']>
  breakdown: Breakdown | '*'
  after?: [number, number]
  limit: number
}

const v = yearlyValues

type Dimension = keyof Breakdown
const dimensions: Dimension[] = ['category', 'grade', 'sex', 'area']
const dimensionColumn = { category: v.category, grade: v.grade, sex: v.sex, area: v.area } as const

/** Codes of a region and everything below it, as a sub-select. */
export function subtreeOf (code: string | Placeholder): SQL {
  return sql`(with recursive down(code, depth) as (
      select code, 0 from ${regions} where code = ${code}
      union all
      select r.code, down.depth + 1 from ${regions} r join down on r.parent_code = down.code where down.depth < 10
    ) select code from down)`
}

/**
 * The list query is prepared once per filter shape (which filters are present, which
 * breakdown dimensions are fixed, whether a cursor follows) with every value a
 * placeholder: on PostgreSQL a named statement, parsed and planned once per connection,
 * then only bound and executed (issue #7: planning cost as much as running the series
 * read). The shape is the statement's name, so the same shape always has the same text.
 */
type ListFilter = Omit<ValueFilter, 'after' | 'limit'> & { after?: [number, number] }

function shapeOf (f: ListFilter): string {
  const flag = (present: boolean, c: string) => (present ? c : '')
  const b = f.breakdown === '*' ? 'any' : dimensions.map((d) => flag(f.breakdown !== '*' && f.breakdown[d] !== undefined, d[0]!)).join('')
  return [
    f.region === undefined ? '' : f.includeDescendants === true ? 'D' : 'r',
    flag(f.indicator !== undefined, 'i'), flag(f.kind !== undefined, 'k'), flag(f.plan !== undefined, 'p'),
    flag(f.from !== undefined, 'f'), flag(f.to !== undefined, 't'), flag(f.status !== undefined, 's'),
    `_b${b}`, flag(f.after !== undefined, '_a')
  ].join('')
}

const ph = (name: string) => sql.placeholder(name)

/** The WHERE clause of a shape: a placeholder for each present filter. */
function listConditions (f: ListFilter): Array<SQL | undefined> {
  const b = f.breakdown
  return [
    f.region === undefined ? undefined : f.includeDescendants === true ? sql`${v.regionCode} in ${subtreeOf(ph('region'))}` : eq(v.regionCode, ph('region')),
    f.indicator !== undefined ? eq(v.indicatorCode, ph('indicator')) : undefined,
    f.kind !== undefined ? eq(v.kind, ph('kind')) : undefined,
    f.plan !== undefined ? eq(v.planId, ph('plan')) : undefined,
    f.from !== undefined ? gte(v.fromYear, ph('from')) : undefined,
    f.to !== undefined ? lte(v.year, ph('to')) : undefined,
    f.status !== undefined ? eq(v.status, ph('status')) : undefined,
    ...(b === '*' ? [] : dimensions.map((d) => (b[d] !== undefined ? eq(dimensionColumn[d], ph(d)) : isNull(dimensionColumn[d])))),
    f.after !== undefined ? or(gt(v.year, ph('afterYear')), and(eq(v.year, ph('afterYear')), gt(v.id, ph('afterId')))) : undefined
  ]
}

/** The values bound to a shape's placeholders. */
function listParams (f: ValueFilter): Record<string, unknown> {
  const params: Record<string, unknown> = { limit: f.limit + 1 }
  for (const k of ['region', 'indicator', 'kind', 'plan', 'from', 'to', 'status'] as const) if (f[k] !== undefined) params[k] = f[k]
  if (f.breakdown !== '*') for (const d of dimensions) if (f.breakdown[d] !== undefined) params[d] = f.breakdown[d]
  if (f.after !== undefined) [params.afterYear, params.afterId] = f.after
  return params
}

/**
 * Filter shapes kept prepared per database handle. 16 breakdown combinations times the
 * optional filters make a few thousand possible shapes; past this many a shape runs
 * unnamed (planned each time), so no client can fill every connection with statements.
 */
const MAX_PREPARED_SHAPES = 64

function breakdownCondition (b: Breakdown | '*'): SQL | undefined {
  if (b === '*') return undefined
  return and(...dimensions.map((d) => (b[d] !== undefined ? eq(dimensionColumn[d], b[d] as never) : isNull(dimensionColumn[d]))))
}

function filterConditions (f: Omit<ValueFilter, 'after' | 'limit'>): Array<SQL | undefined> {
  const region = f.region === undefined
    ? undefined
    : f.includeDescendants === true ? sql`${v.regionCode} in ${subtreeOf(f.region)}` : eq(v.regionCode, f.region)
  return [
    region,
    f.indicator !== undefined ? eq(v.indicatorCode, f.indicator) : undefined,
    f.kind !== undefined ? eq(v.kind, f.kind) : undefined,
    f.plan !== undefined ? eq(v.planId, f.plan) : undefined,
    f.from !== undefined ? gte(v.fromYear, f.from) : undefined,
    f.to !== undefined ? lte(v.year, f.to) : undefined,
    f.status !== undefined ? eq(v.status, f.status) : undefined,
    breakdownCondition(f.breakdown)
  ]
}

/**
 * The hot reads (one value by id, a page of the list) run as named statements through
 * src/db/prepared.ts: parsed and planned once per connection, then only bound and
 * executed, with rows decoded by hand instead of through drizzle's generic row mapper
 * (issue #7: on the series read that mapping and planning cost as much as the query).
 * Columns whose JavaScript type differs between pg and PGlite are selected as text. The
 * two timestamps come as the API writes them (ISO 8601 in UTC, milliseconds truncated,
 * exactly what a drizzle-read `Date` serialises to): parsing them into Dates only for the
 * serializer to format them back cost about 1.5 us each, some 45 us of a 15-row page
 * (issue #7, series read).
 */
const isoTimestamp = (column: string) => `to_char("${column}" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "${column}"`
const SELECT_ROW = sql.raw(`"id"::text as "id", "kind", "plan_id", "region_code", "indicator_code", "from_year", "year",
  "category", "grade", "sex", "area", "value"::text as "value", "status", "numerator"::text as "numerator",
  "denominator"::text as "denominator", "as_of"::text as "as_of", "comparator", "binding", "baseline_year",
  "baseline_value"::text as "baseline_value", "qualitative", "source", "note", "revision", "updated_by",
  ${isoTimestamp('created_at')}, ${isoTimestamp('updated_at')}`)

interface RawRow {
  id: string
  kind: ValueRow['kind']
  plan_id: string | null
  region_code: string
  indicator_code: string
  from_year: number
  year: number
  category: ValueRow['category']
  grade: ValueRow['grade']
  sex: ValueRow['sex']
  area: ValueRow['area']
  value: string | null
  status: ValueRow['status']
  numerator: string | null
  denominator: string | null
  as_of: string | null
  comparator: ValueRow['comparator']
  binding: ValueRow['binding']
  baseline_year: number | null
  baseline_value: string | null
  qualitative: string | null
  source: string | null
  note: string | null
  revision: number
  updated_by: string
  /** ISO 8601, UTC: 2026-01-05T08:00:00.000Z */
  created_at: string
  updated_at: string
}

/** Same keys, in the same order, as a row selected through drizzle (timestamps as ISO text). */
function decodeRaw (r: RawRow): ValueRecord {
  return {
    id: Number(r.id),
    kind: r.kind,
    planId: r.plan_id,
    regionCode: r.region_code,
    indicatorCode: r.indicator_code,
    fromYear: r.from_year,
    year: r.year,
    category: r.category,
    grade: r.grade,
    sex: r.sex,
    area: r.area,
    value: r.value,
    status: r.status,
    numerator: r.numerator,
    denominator: r.denominator,
    asOf: r.as_of,
    comparator: r.comparator,
    binding: r.binding,
    baselineYear: r.baseline_year,
    baselineValue: r.baseline_value,
    qualitative: r.qualitative,
    source: r.source,
    note: r.note,
    revision: r.revision,
    updatedBy: r.updated_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  }
}

/**
 * The CSV export's columns as PostgreSQL writes them with COPY (FORMAT csv): the columns
 * the import accepts (imports.csv.ts CSV_COLUMNS), in that order and under those names.
 * COPY quotes exactly what csv-stringify (the PGlite path, values.csv.ts) quotes (a comma,
 * a quote or a line break) except an empty string, which COPY writes as `""`: empty
 * strings are made null (an empty field, like csv-stringify writes them).
 */
const exportColumn = (x: SQLWrapper, name: string) => sql`nullif(${x}::text, '') as ${sql.identifier(name)}`
const EXPORT_COLUMNS = {
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
if (Object.keys(EXPORT_COLUMNS).join() !== CSV_COLUMNS.join()) throw new Error('EXPORT_COLUMNS must list CSV_COLUMNS in order')
const EXPORT_SELECT = sql.join(Object.entries(EXPORT_COLUMNS).map(([name, x]) => exportColumn(x, name)), sql`, `)

const text = (x: number | null) => (x === null ? null : String(x))

/** A stored row as a line of the export (PGlite). */
function exportLineOf (r: ValueRecord): string {
  return csvLine([r.kind, r.planId, r.regionCode, r.indicatorCode, String(r.fromYear), String(r.year), breakdownText(r),
    r.value, r.status, r.numerator, r.denominator, r.asOf, r.comparator, r.binding, text(r.baselineYear),
    r.baselineValue, r.qualitative, r.source, r.note])
}

/** A named statement over SQL built by drizzle with named placeholders, bound by name. */
interface Prepared { run: Statement<RawRow>, names: string[] }

function prepared (db: Db, name: string, query: { sql: string, params: unknown[] }): Prepared {
  const names = query.params.map((p) => {
    const placeholder = p as { name?: unknown }
    if (typeof placeholder.name !== 'string') throw new Error(`statement ${name}: every parameter must be a placeholder`)
    return placeholder.name
  })
  return { run: prepareStatement<RawRow>(db, name, query.sql), names }
}

async function execute (statement: Prepared, params: Record<string, unknown>): Promise<ValueRecord[]> {
  const rows = await statement.run(statement.names.map((n) => params[n]))
  return rows.map(decodeRaw)
}

/** The root handle (not a transaction): named statements live on its pool's connections. */
const isRoot = (db: Db) => (db as unknown as { $client?: unknown }).$client !== undefined

export function createValuesRepository (db: Db) {
  // Prepared on first use; on a transaction handle the reads go through drizzle's builder.
  const root = isRoot(db)
  let byId: Prepared | undefined
  const shapes = new Map<string, Prepared>()

  function unprepared (f: ValueFilter): Promise<ValueRecord[]> {
    return db.select().from(v).where(and(
      ...filterConditions(f),
      f.after !== undefined ? or(gt(v.year, f.after[0]), and(eq(v.year, f.after[0]), gt(v.id, f.after[1]))) : undefined
    )).orderBy(asc(v.year), asc(v.id)).limit(f.limit + 1)
  }

  /** Ordered by (year, id): chronological, stable under inserts. */
  async function list (f: ValueFilter): Promise<ValueRecord[]> {
    if (!root) return unprepared(f)
    const name = `values_list_${shapeOf(f)}`
    let statement = shapes.get(name)
    if (statement === undefined) {
      if (shapes.size >= MAX_PREPARED_SHAPES) return unprepared(f)
      statement = prepared(db, name, db.select({ row: sql`${SELECT_ROW}` }).from(v).where(and(...listConditions(f)))
        .orderBy(asc(v.year), asc(v.id)).limit(ph('limit')).toSQL())
      shapes.set(name, statement)
    }
    return execute(statement, listParams(f))
  }

  return {
    async get (id: number, forUpdate = false): Promise<ValueRecord | undefined> {
      if (forUpdate || !root) {
        const q = db.select().from(v).where(eq(v.id, id))
        return (forUpdate ? await q.for('update') : await q)[0]
      }
      byId ??= prepared(db, 'values_get', db.select({ row: sql`${SELECT_ROW}` }).from(v).where(eq(v.id, ph('id'))).toSQL())
      return (await execute(byId, { id }))[0]
    },

    list,

    /**
     * Every value matching the filter, in list order (year, id), as CSV with a header row,
     * written by PostgreSQL's COPY: one query, one pass, no row becomes a JavaScript object
     * (keyset pages would sort the whole match again for every page, since no index is in
     * (year, id) order: quadratic, 2 s a page for a 1M-value export of 5M values).
     * Undefined on PGlite: use `exportLines`.
     */
    async exportCsv (f: Omit<ValueFilter, 'after' | 'limit'>): Promise<Readable | undefined> {
      return copyCsv(db, db.select({ row: EXPORT_SELECT }).from(v).where(and(...filterConditions(f))).orderBy(asc(v.year), asc(v.id)).toSQL())
    },

    /**
     * Every value matching the filter in list order as lines of the CSV export (no line
     * end), `batch` at a time, read in keyset pages: PGlite's one connection serves every
     * request, so a slow download must never hold it.
     */
    async * exportLines (f: Omit<ValueFilter, 'after' | 'limit'>, batch: number): AsyncGenerator<string[]> {
      let after: [number, number] | undefined
      for (;;) {
        const page = await list({ ...f, after, limit: batch })
        const more = page.length > batch
        if (more) page.length = batch
        if (page.length > 0) yield page.map(exportLineOf)
        if (!more) return
        const last = page[batch - 1]!
        after = [last.year, last.id]
      }
    },

    /**
     * Per region, indicator and breakdown, the most recent actual: the latest year, and
     * for one year the shortest period (a single-year figure before a multi-year total).
     * Ordered by (region, indicator, id).
     */
    async listLatest (f: Omit<ValueFilter, 'after'> & { after?: [string, string, number] }): Promise<ValueRow[]> {
      const latest = db.selectDistinctOn([v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area]).from(v)
        .where(and(...filterConditions({ ...f, kind: 'actual' })))
        .orderBy(v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area, desc(v.year), desc(v.fromYear))
        .as('latest')
      const a = f.after
      return db.select().from(latest).where(a !== undefined
        ? sql`(${latest.regionCode}, ${latest.indicatorCode}, ${latest.id}) > (${a[0]}, ${a[1]}, ${a[2]})`
        : undefined)
        .orderBy(asc(latest.regionCode), asc(latest.indicatorCode), asc(latest.id)).limit(f.limit + 1)
    },

    async listByPlan (planId: string, after: [number, number] | undefined, limit: number): Promise<ValueRow[]> {
      return db.select().from(v).where(and(
        eq(v.planId, planId),
        after !== undefined ? or(gt(v.year, after[0]), and(eq(v.year, after[0]), gt(v.id, after[1]))) : undefined
      )).orderBy(asc(v.year), asc(v.id)).limit(limit + 1)
    },

    async allOfPlan (planId: string, forUpdate = false): Promise<ValueRow[]> {
      const q = db.select().from(v).where(eq(v.planId, planId)).orderBy(asc(v.id))
      return forUpdate ? q.for('update') : q
    },

    async insert (data: ValueData): Promise<ValueRow> {
      return (await db.insert(v).values(data).returning())[0]!
    },

    async insertMany (rows: ValueData[]): Promise<ValueRow[]> {
      if (rows.length === 0) return []
      return db.insert(v).values(rows).returning()
    },

    async update (id: number, data: ValueData): Promise<ValueRow> {
      return (await db.update(v)
        .set({ ...data, revision: sql`${v.revision} + 1`, updatedAt: sql`now()`, updatedBy: currentActor })
        .where(eq(v.id, id)).returning())[0]!
    },

    async delete (id: number): Promise<void> {
      await db.delete(v).where(eq(v.id, id))
    },

    async deleteMany (ids: number[]): Promise<void> {
      if (ids.length > 0) await db.delete(v).where(inArray(v.id, ids))
    }
  }
}

export type ValuesRepository = ReturnType<typeof createValuesRepository>
