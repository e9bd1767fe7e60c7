import { sql } from 'drizzle-orm'
import pg from 'pg'
import t from 'tap'
import { queryRows } from '../src/db/query.ts'
import { rootCause } from '../src/db/errors.ts'
import { build, call, createIndicator, createRegions, json } from './helper.ts'

// Values refer to regions and indicators through set-based triggers, not declared foreign
// keys (migrations/0006): these tests hold them to what a foreign key guarantees, through
// the API and through plain SQL, which bypasses every check of the service.

const app = await build(t)
await createRegions(app)
await createIndicator(app)

const sqlError = async (query: ReturnType<typeof sql>) => {
  try {
    await queryRows(app.db, query)
  } catch (err) {
    return rootCause(err) as { code?: string, constraint?: string }
  }
  return undefined
}

t.test('a value naming a missing region or indicator cannot be stored, even by SQL', async (t) => {
  const region = await sqlError(sql`insert into yearly_values (kind, region_code, indicator_code, from_year, year, value)
    values ('actual', '331003', 'hardship-subsidy-coverage', 2020, 2020, 1), ('actual', '999999', 'hardship-subsidy-coverage', 2020, 2020, 1)`)
  t.equal(region?.code, '23503', 'foreign_key_violation')
  t.equal(region?.constraint, 'yearly_values_region_code_regions_code_fk')
  const indicator = await sqlError(sql`insert into yearly_values (kind, region_code, indicator_code, from_year, year, value)
    values ('actual', '331003', 'no-such-indicator', 2020, 2020, 1)`)
  t.equal(indicator?.code, '23503')
  t.equal(indicator?.constraint, 'yearly_values_indicator_code_indicators_code_fk')
  const moved = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2019, value: 90 })
  t.equal(moved.statusCode, 201)
  const update = await sqlError(sql`update yearly_values set region_code = '999998' where id = ${json(moved).id}`)
  t.equal(update?.code, '23503', 'an update cannot point a value at a missing region either')
  const [{ n } = { n: -1 }] = await queryRows<{ n: number }>(app.db, sql`select count(*)::int as n from yearly_values where year = 2020`)
  t.equal(n, 0, 'the failed statements stored nothing')
})

t.test('a region or indicator in use cannot be deleted, renamed or truncated away', async (t) => {
  const value = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2021, value: 95 })
  t.equal(value.statusCode, 201)
  const del = await sqlError(sql`delete from regions where code = '331003'`)
  t.equal(del?.code, '23503')
  t.equal(del?.constraint, 'yearly_values_region_code_regions_code_fk')
  const rename = await sqlError(sql`update indicators set code = 'renamed' where code = 'hardship-subsidy-coverage'`)
  t.equal(rename?.code, '23503')
  t.equal(rename?.constraint, 'yearly_values_indicator_code_indicators_code_fk')
  t.equal((await sqlError(sql`truncate indicators cascade`))?.code, '23503', 'truncate is refused while values exist')
  t.equal((await call(app, 'DELETE', '/v1/indicators/hardship-subsidy-coverage')).statusCode, 409, 'through the API: 409 INDICATOR_IN_USE')
  // An unused indicator and region go as before; renaming one nobody uses is fine.
  await createIndicator(app, { code: 'unused-indicator' })
  t.equal(await sqlError(sql`update indicators set code = 'unused-renamed' where code = 'unused-indicator'`), undefined)
  t.equal((await call(app, 'DELETE', '/v1/indicators/unused-renamed')).statusCode, 204)
})

// Two connections: a writer holding new values uncommitted and a delete of their region.
const databaseUrl = process.env.DATABASE_URL
t.test('a delete racing an uncommitted insert of values waits, then refuses', { skip: databaseUrl === undefined || databaseUrl === '' ? 'needs two connections (PostgreSQL)' : false }, async (t) => {
  const [{ name } = { name: '' }] = await queryRows<{ name: string }>(app.db, sql`select current_database() as name`)
  const url = new URL(databaseUrl!)
  url.pathname = `/${name}`
  const writer = new pg.Client({ connectionString: url.toString() })
  const deleter = new pg.Client({ connectionString: url.toString() })
  await writer.connect()
  await deleter.connect()
  t.teardown(async () => { await writer.end(); await deleter.end() })
  await call(app, 'POST', '/v1/regions', { code: '331099', name: '测试区', level: 'county', parentCode: '331000' })

  await writer.query('begin')
  await writer.query('insert into yearly_values (kind, region_code, indicator_code, from_year, year, value) values (\'actual\', \'331099\', \'hardship-subsidy-coverage\', 2022, 2022, 1)')
  let settled = false
  const deleting = deleter.query('delete from regions where code = \'331099\'').then(() => undefined, (err: { code?: string }) => err).finally(() => { settled = true })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(settled, false, 'the delete waits for the transaction writing values')
  await writer.query('commit')
  t.equal((await deleting)?.code, '23503', 'once the values are committed, the delete is refused')

  // The other order: the region is deleted first (uncommitted); the insert waits, then fails.
  await call(app, 'POST', '/v1/regions', { code: '331098', name: '测试区二', level: 'county', parentCode: '331000' })
  await deleter.query('begin')
  await deleter.query('delete from regions where code = \'331098\'')
  const inserting = writer.query('insert into yearly_values (kind, region_code, indicator_code, from_year, year, value) values (\'actual\', \'331098\', \'hardship-subsidy-coverage\', 2022, 2022, 1)')
    .then(() => undefined, (err: { code?: string }) => err)
  await new Promise((resolve) => setTimeout(resolve, 300))
  await deleter.query('commit')
  t.equal((await inserting)?.code, '23503', 'the insert finds the region gone')
  const [{ n } = { n: -1 }] = await queryRows<{ n: number }>(app.db, sql`select count(*)::int as n from yearly_values where region_code = '331098'`)
  t.equal(n, 0)
})
