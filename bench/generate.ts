// Deterministic generator of a synthetic national dataset for the benchmarks:
// the real division list (national root, provinces, prefectures,
// counties), synthetic indicators, 15 years (2011-2025) of single-year actuals for every
// region, and a few plans with targets. The same size always gives the same rows.
//
//   node --import tsx bench/generate.ts --database bench_10m --values 10000000 [--force]
//
// Loading is set-based and fast: triggers and foreign keys are off for the load
// (session_replication_role = replica, so the changes feed stays empty), the secondary
// indexes of yearly_values are dropped and rebuilt after it, and every row is made by
// INSERT ... SELECT over generate_series: nothing is sent row by row.
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import pino from 'pino'
import { openDatabase } from '../src/db/client.ts'
import { indicatorDomains } from '../src/db/schema.ts'
import { nationalDivisions } from '../src/seed/divisions.ts'

export const GENERATOR_VERSION = 1
export const FIRST_YEAR = 2011
export const LAST_YEAR = 2025
const YEARS = LAST_YEAR - FIRST_YEAR + 1

/** The catalogue: at least 200 indicators; 1 is a `sum`, 2 a `ratio`, 3 a `none` indicator. */
export function indicatorOf (i: number) {
  const aggregation = i % 10 === 2 ? 'ratio' : i % 10 === 3 ? 'none' : 'sum'
  return {
    code: benchIndicator(i),
    name: `基准指标${i}`,
    domain: indicatorDomains[i % indicatorDomains.length]!,
    unit: aggregation === 'sum' ? 'persons' : 'percent',
    aggregation,
    direction: i % 7 === 4 ? 'decrease' : 'increase',
    min: aggregation === 'none' ? null : '0',
    max: aggregation === 'sum' ? null : '100'
  }
}
export const benchIndicator = (i: number) => `bench-${String(i).padStart(3, '0')}`

/** The plan the monitoring benchmark assesses: 台州市 and its counties, indicators 1 and 2. */
export const BENCH_PLAN = 'bench-taizhou-14th'
export const BENCH_PLAN_REGION = '331000'

export interface GenerateOptions {
  /** Server URL without a database name, e.g. postgres://postgres@127.0.0.1:5432 */
  server: string
  database: string
  values: number
  force?: boolean
  log?: (line: string) => void
}

function databaseUrl (server: string, database: string): string {
  const url = new URL(server)
  url.pathname = `/${database}`
  return url.toString()
}

const marker = (values: number) => `indicator-registry bench dataset v${GENERATOR_VERSION}, ${values} values requested`

async function admin<T> (server: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(server, 'postgres') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Creates and loads the database, or reuses it when it already holds this dataset. Returns its URL. */
export async function generate (options: GenerateOptions): Promise<{ url: string, reused: boolean, values: number }> {
  const log = options.log ?? ((line: string) => console.error(line))
  const { database, values } = options
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name ${database}: use lowercase letters, digits and _`)
  const url = databaseUrl(options.server, database)

  const existing = await admin(options.server, async (c) => (await c.query<{ comment: string | null }>(
    'select shobj_description(oid, \'pg_database\') as comment from pg_database where datname = $1', [database])).rows[0])
  if (existing !== undefined && existing.comment === marker(values) && options.force !== true) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from yearly_values where kind = \'actual\'')
    await client.end()
    log(`${database}: reusing the dataset (${rows[0]!.n} actuals); --force rebuilds it`)
    return { url, reused: true, values: rows[0]!.n }
  }

  const started = Date.now()
  const step = (what: string) => log(`${database}: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  await admin(options.server, async (c) => {
    await c.query(`drop database if exists ${database} with (force)`)
    await c.query(`create database ${database}`)
  })
  const opened = await openDatabase({ databaseUrl: url, dataDir: '', logger: pino({ level: 'warn' }) })
  await opened.migrate()
  await opened.close()
  step('created, migrations applied')

  // Load without triggers (changes feed, history) and without foreign-key checks.
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    options: '-c session_replication_role=replica -c maintenance_work_mem=1GB'
  })
  try {
    const regions = nationalDivisions()
    await pool.query(`
      insert into regions (code, name, name_en, level, parent_code, updated_by)
      select code, name, name_en, level, parent_code, 'bench'
      from unnest($1::text[], $2::text[], $3::text[], $4::region_level[], $5::text[]) as r(code, name, name_en, level, parent_code)`,
    [regions.map((r) => r.code), regions.map((r) => r.name), regions.map((r) => r.nameEn), regions.map((r) => r.level), regions.map((r) => r.parentCode)])

    const perIndicator = regions.length * YEARS
    const withData = Math.max(1, Math.round(values / perIndicator))
    const catalogue = Array.from({ length: Math.max(200, withData) }, (_, k) => indicatorOf(k + 1))
    await pool.query(`
      insert into indicators (code, name, domain, unit, aggregation, direction, min, max, updated_by)
      select code, name, domain, unit, aggregation, direction, min, max, 'bench'
      from unnest($1::text[], $2::text[], $3::indicator_domain[], $4::indicator_unit[], $5::aggregation[], $6::direction[], $7::numeric[], $8::numeric[])
        as i(code, name, domain, unit, aggregation, direction, min, max)`,
    ['code', 'name', 'domain', 'unit', 'aggregation', 'direction', 'min', 'max'].map((k) => catalogue.map((c) => (c as Record<string, unknown>)[k])))
    step(`${regions.length} regions, ${catalogue.length} indicators (${withData} with data: ${withData * perIndicator} actuals)`)

    // Secondary indexes and the natural-key constraint are rebuilt after the load.
    const { rows: constraints } = await pool.query<{ name: string, def: string }>(`
      select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
      where conrelid = 'yearly_values'::regclass and contype = 'u'`)
    const { rows: indexes } = await pool.query<{ name: string, def: string }>(`
      select indexname as name, indexdef as def from pg_indexes
      where tablename = 'yearly_values' and indexname not in (select conname from pg_constraint where conrelid = 'yearly_values'::regclass)`)
    for (const c of constraints) await pool.query(`alter table yearly_values drop constraint ${c.name}`)
    for (const i of indexes) await pool.query(`drop index ${i.name}`)

    // Year after year, as the nightly imports would bring them: every region, every indicator.
    // Values are arithmetic on (region index, indicator index, year): deterministic.
    const insertYear = (year: number) => pool.query(`
      with r as (select code, row_number() over (order by code) as ri from regions),
           i as (select code, aggregation, substr(code, 7)::int as ii from indicators where code like 'bench-%' and substr(code, 7)::int <= $2)
      insert into yearly_values (kind, region_code, indicator_code, from_year, year, value, numerator, denominator, status, source, updated_by)
      select 'actual', r.code, i.code, $1, $1,
             case i.aggregation
               when 'sum' then 100 + (r.ri * 7919 + i.ii * 104729 + $1 * 31) % 5000
               when 'ratio' then round(p.num * 100 / p.den, 2)
               else ((r.ri + i.ii * 3 + $1) % 200) / 10.0
             end,
             case when i.aggregation = 'ratio' then p.num end,
             case when i.aggregation = 'ratio' then p.den end,
             'final', 'bench-generator', 'bench'
      from r cross join i
      cross join lateral (select (1000 + (r.ri * 31 + i.ii * 17) % 9000) - (r.ri + i.ii + $1) % 50 as num,
                                 (1000 + (r.ri * 31 + i.ii * 17) % 9000)::numeric as den) p
      order by r.code, i.code`, [year, withData])
    const years = Array.from({ length: YEARS }, (_, k) => FIRST_YEAR + k)
    let done = 0
    await Promise.all([0, 1].map(async (worker) => {
      for (const year of years.filter((_, k) => k % 2 === worker)) {
        await insertYear(year)
        step(`actuals of ${year} loaded (${++done}/${YEARS})`)
      }
    }))

    for (const c of constraints) {
      await pool.query(`alter table yearly_values add constraint ${c.name} ${c.def}`)
      step(`constraint ${c.name} rebuilt`)
    }
    for (const i of indexes) {
      await pool.query(i.def)
      step(`index ${i.name} rebuilt`)
    }

    // Plans: a five-year plan (2021-2025, baseline 2020) per province with targets for
    // up to 20 indicators, and the benchmark plan of 台州市: indicators 1 and 2 for the
    // prefecture and each county below it. Targets: +20% on the 2020 actual (-20% for a
    // `decrease` indicator), binding for odd indicators.
    await pool.query(`
      insert into plans (id, title, kind, region_code, start_year, end_year, baseline_year, updated_by)
      select 'bench-' || code || '-14th', name || '残疾人事业发展“十四五”规划', 'five-year-plan'::plan_kind, code, 2021, 2025, 2020, 'bench'
      from regions where level = 'province'
      union all
      select $1, '台州市残疾人事业发展“十四五”规划（基准）', 'five-year-plan', $2, 2021, 2025, 2020, 'bench'`, [BENCH_PLAN, BENCH_PLAN_REGION])
    const targets = (plan: string, regionFilter: string, maxIndicator: number) => `
      insert into yearly_values (kind, plan_id, region_code, indicator_code, from_year, year, value, comparator, binding, baseline_year, baseline_value, source, updated_by)
      select 'target', ${plan}, a.region_code, a.indicator_code, 2025, 2025,
             least(coalesce(i.max, 1e15), round(a.value * case when i.direction = 'decrease' then 0.8 else 1.2 end, 2)),
             case when i.direction = 'decrease' then 'at-most' else 'at-least' end::comparator,
             case when substr(i.code, 7)::int % 2 = 1 then 'binding' else 'expected' end::binding,
             2020, a.value, 'bench-generator', 'bench'
      from yearly_values a join indicators i on i.code = a.indicator_code
      where a.kind = 'actual' and a.year = 2020 and a.from_year = 2020 and ${regionFilter}
        and i.code like 'bench-%' and substr(i.code, 7)::int <= ${maxIndicator}`
    await pool.query(targets('\'bench-\' || a.region_code || \'-14th\'', 'a.region_code in (select code from regions where level = \'province\')', 20))
    await pool.query(targets('$1', '(a.region_code = $2 or a.region_code in (select code from regions where parent_code = $2))', 2), [BENCH_PLAN, BENCH_PLAN_REGION])
    step('plans and targets')

    await pool.query('vacuum (analyze) yearly_values')
    await pool.query('analyze')
    step('vacuumed and analysed')
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from yearly_values where kind = \'actual\'')
    await admin(options.server, (c) => c.query(`comment on database ${database} is '${marker(values)}'`))
    step(`done: ${rows[0]!.n} actuals`)
    return { url, reused: false, values: rows[0]!.n }
  } finally {
    await pool.end()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      values: { type: 'string', default: '100000' },
      server: { type: 'string', default: process.env.BENCH_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
      force: { type: 'boolean', default: false }
    }
  })
  const size = Number(values.values)
  if (!Number.isInteger(size) || size < 1) throw new Error('--values must be a positive integer')
  await generate({ server: values.server, database: values.database ?? `bench_${size}`, values: size, force: values.force })
}
