import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import t, { type Test as Tap } from 'tap'
import { connectionOf } from '../src/db/query.ts'
import { build, call, indicatorBody, json, planBody, tokenFor, zhejiangTree } from './helper.ts'

// Cacheable reads (src/plugins/caching.ts): Cache-Control from the configuration, ETags
// from the data version on lists, progress, rollups and rankings, 304 without running the
// route's query, and a new tag after every kind of write, including one committed late by
// a transaction that began before the read.

const PUBLIC = 'public, max-age=10, stale-while-revalidate=30'
const VERSION_QUERY = 'from changes c where c.txid >= $1::xid8'
const PLAN = 'huangyan-14th-fyp'
const COV = 'hardship-subsidy-coverage'

/**
 * Every statement the app sends to its database, as text, from when it is called, and on
 * PostgreSQL every connection it takes from the pool (an export streams on one of its own).
 */
function spyOnQueries (t: Tap, app: FastifyInstance) {
  const connection = connectionOf(app.db) as unknown as { query: (...args: unknown[]) => Promise<unknown>, connect?: (...args: unknown[]) => unknown }
  const { query, connect } = connection
  const sent: string[] = []
  let checkouts = 0
  let hold: Promise<void> | undefined
  connection.query = async function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text: string }
    const text = typeof first === 'string' ? first : first.text
    sent.push(text)
    const result = await query.apply(this, args)
    // A held version query has run (its snapshot is taken) but its answer waits.
    if (hold !== undefined && text.includes(VERSION_QUERY)) await hold
    return result
  }
  if (connect !== undefined) {
    connection.connect = function (this: unknown, ...args: unknown[]) {
      checkouts++
      return connect.apply(this, args)
    }
  }
  t.teardown(() => { Object.assign(connection, { query, connect }) })
  return {
    /** What ran since the last call besides version queries (each of those takes one connection). */
    otherWork: () => {
      const statements = sent.splice(0)
      const versions = statements.filter((q) => q.includes(VERSION_QUERY)).length
      const taken = checkouts
      checkouts = 0
      const others = statements.filter((q) => !q.includes(VERSION_QUERY))
      if (connect !== undefined && taken > statements.length) others.push(`${taken - statements.length} connection(s) taken for a stream`)
      return { versions, others }
    },
    holdVersions: () => {
      let release!: () => void
      hold = new Promise((resolve) => { release = resolve })
      return () => { hold = undefined; release() }
    }
  }
}

/** The whole behaviour, with the in-process answer cache off and on (`memoryBytes`). */
async function suite (t: Tap, memoryBytes: number) {
  const app = await build(t, { auth: 'none', caching: { maxAge: 10, staleWhileRevalidate: 30, memoryBytes } })
  const spy = spyOnQueries(t, app)
  const admin = { authorization: `Bearer ${await tokenFor(app, 'admin')}` }
  const write = async (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
    const res = await call(app, method, url, body, admin)
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
    return res
  }
  for (const region of zhejiangTree) await write('POST', '/v1/regions', region)
  await write('POST', '/v1/indicators', indicatorBody())
  await write('POST', '/v1/plans', planBody())
  const actual = (year: number, value: string, region = '331003') => ({ kind: 'actual', regionCode: region, indicatorCode: COV, year, value, status: 'final' })
  const firstValue = json(await write('POST', '/v1/values', actual(2021, '90')))
  await write('POST', '/v1/values', actual(2021, '80', '331004'))
  await write('PUT', `/v1/plans/${PLAN}/targets`, { targets: [{ regionCode: '331003', indicatorCode: COV, year: 2025, value: '100', comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '80' }] })

  const dataRoutes = [
    '/v1/regions',
    '/v1/regions/331000/children',
    '/v1/regions/331003/ancestors',
    '/v1/regions/330000/descendants',
    '/v1/indicators',
    '/v1/plans',
    `/v1/plans/${PLAN}/targets`,
    `/v1/plans/${PLAN}/progress`,
    `/v1/plans/${PLAN}/progress?asOf=2022`,
    '/v1/values?region=331003',
    '/v1/values?region=331003&format=csv',
    '/v1/values?region=331003&format=xlsx',
    `/v1/values/${firstValue.id}/history`,
    '/v1/changes',
    `/v1/regions/331000/rollup?indicator=${COV}`,
    `/v1/indicators/${COV}/ranking?year=2021&within=331000`
  ]

  const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => app.inject({ method, url, headers })

  t.test('each cached route: a weak ETag and Cache-Control; the same ETag back is 304 without the route\'s query', async (t) => {
    for (const url of dataRoutes) {
      spy.otherWork()
      const full = await get(url)
      t.equal(full.statusCode, 200, `${url}: 200`)
      const etag = full.headers.etag as string
      t.match(etag, /^W\/"[A-Za-z0-9_-]{22}"$/, `${url}: a weak ETag`)
      t.equal(full.headers['cache-control'], PUBLIC, `${url}: Cache-Control`)
      t.not(spy.otherWork().others.length, 0, `${url}: the full answer ran the route's query`)

      const again = await get(url)
      t.equal(again.headers.etag, etag, `${url}: unchanged data, the same ETag`)
      spy.otherWork()
      for (const method of ['GET', 'HEAD'] as const) {
        const res = await get(url, { 'if-none-match': etag }, method)
        t.equal(res.statusCode, 304, `${url}: ${method} with If-None-Match is 304`)
        t.equal(res.body, '', `${url}: no body`)
        t.equal(res.headers.etag, etag, `${url}: the 304 names the ETag`)
        t.equal(res.headers['cache-control'], PUBLIC, `${url}: the 304 carries Cache-Control`)
      }
      const work = spy.otherWork()
      t.same(work.others, [], `${url}: the 304s ran nothing but the version query`)
      t.ok(work.versions >= 1, `${url}: which they did run`)
      t.equal((await get(url, { 'if-none-match': `"other", ${etag}` })).statusCode, 304, `${url}: found in a list of tags`)
      t.equal((await get(url, { 'if-none-match': etag.slice(2) })).statusCode, 304, `${url}: compared weakly`)
      t.equal((await get(url, { 'if-none-match': 'W/"other"' })).statusCode, 200, `${url}: another tag is a full answer`)
    }
  })

  t.test('the representation is part of the tag, and Vary says what chose it', async (t) => {
    const json = await get('/v1/values?region=331003')
    const csv = await get('/v1/values?region=331003', { accept: 'text/csv' })
    t.match(csv.headers['content-type'], /^text\/csv/)
    t.equal(json.headers.vary, 'Accept, Commit-Position')
    t.equal(csv.headers.vary, 'Accept, Commit-Position')
    t.not(csv.headers.etag, json.headers.etag, 'CSV and JSON of one URL have different tags')
    const asCsv = await get('/v1/values?region=331003', { accept: 'text/csv', 'if-none-match': json.headers.etag as string })
    t.equal(asCsv.statusCode, 200, 'the JSON answer\'s tag does not stand for the CSV')
    const notModified = await get('/v1/values?region=331003', { accept: 'text/csv', 'if-none-match': csv.headers.etag as string })
    t.equal(notModified.statusCode, 304)
    t.equal(notModified.headers.vary, 'Accept, Commit-Position', 'the 304 carries Vary')
    t.equal((await get('/v1/plans')).headers.vary, 'Commit-Position', 'a route with one representation varies only on the read-your-writes position')

    const problem = await get('/v1/plans/nope/progress', { 'accept-language': 'zh-CN' })
    t.equal(problem.statusCode, 404)
    t.equal(problem.headers['cache-control'], 'no-store', 'an error is not kept')
    t.equal(problem.headers.etag, undefined, 'an error has no ETag')
    t.equal(problem.headers.vary, 'Accept-Language')
    const invalid = await get('/v1/values?region=331003&limit=0', { 'if-none-match': json.headers.etag as string })
    t.equal(invalid.statusCode, 400, 'a bad request is refused even with a current tag')
    t.equal(invalid.headers['cache-control'], 'no-store')
  })

  t.test('single resources: their revision as ETag, with the same Cache-Control', async (t) => {
    for (const url of ['/v1/regions/331003', `/v1/indicators/${COV}`, `/v1/plans/${PLAN}`, `/v1/values/${firstValue.id}`]) {
      const res = await get(url)
      t.match(res.headers.etag, /^"\d+"$/, `${url}: the revision`)
      t.equal(res.headers['cache-control'], PUBLIC, url)
      const again = await get(url, { 'if-none-match': res.headers.etag as string })
      t.equal(again.statusCode, 304)
      t.equal(again.headers['cache-control'], PUBLIC)
    }
    t.equal((await get('/v1/regions/331099')).headers['cache-control'], 'no-store', 'a 404 is not kept')
  })

  /** The ETag of `url` now; then `change()`; then the old tag must get a full, new answer. */
  async function changes (t: Tap, url: string, change: () => Promise<unknown>, check: (before: any, after: any) => void) {
    const before = await get(url)
    await change()
    const after = await get(url, { 'if-none-match': before.headers.etag as string })
    t.equal(after.statusCode, 200, `${url}: the old tag gets a full answer after the write`)
    t.not(after.headers.etag, before.headers.etag, `${url}: a new ETag`)
    check(before.headers['content-type']?.toString().startsWith('application/json') === true ? json(before) : before.body, after.statusCode === 200 && after.headers['content-type']?.toString().startsWith('application/json') === true ? json(after) : after.body)
  }

  t.test('every kind of write changes the tag, and the next read has the new data', async (t) => {
    const series = '/v1/values?region=331003&kind=actual'
    const values = (page: { items: Array<{ year: number, value: string }> }) => page.items.map((v) => `${v.year}:${v.value}`)

    let created: { id: number } = { id: 0 }
    await changes(t, series, async () => { created = json(await write('POST', '/v1/values', actual(2022, '92'))) }, (a, b) => t.same(values(b), [...values(a), '2022:92'], 'value created'))
    await changes(t, series, () => write('PATCH', `/v1/values/${created.id}`, { value: '93' }), (_a, b) => t.same(values(b), ['2021:90', '2022:93'], 'value updated'))
    await changes(t, series, () => write('DELETE', `/v1/values/${created.id}`), (_a, b) => t.same(values(b), ['2021:90'], 'value deleted'))
    await changes(t, series, () => write('POST', '/v1/values/import', { values: [actual(2023, '95')] }), (_a, b) => t.same(values(b), ['2021:90', '2023:95'], 'imported'))
    const csv = 'kind,regionCode,indicatorCode,year,value,status\nactual,331003,hardship-subsidy-coverage,2024,96,final\n'
    await changes(t, `${series}&format=csv`, () => app.inject({ method: 'POST', url: '/v1/values/import', payload: csv, headers: { ...admin, 'content-type': 'text/csv' } }),
      (_a, b) => t.match(b, /2024,2024,,96,final/, 'imported as CSV, exported as CSV'))
    await changes(t, `/v1/plans/${PLAN}/progress?asOf=2025`, () => write('PUT', `/v1/plans/${PLAN}/targets`, { targets: [{ regionCode: '331003', indicatorCode: COV, year: 2025, value: '99', comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '80' }] }),
      (a, b) => { t.equal(a.items[0].target, '100'); t.equal(b.items[0].target, '99', 'target table replaced') })
    await changes(t, '/v1/plans', () => write('PATCH', `/v1/plans/${PLAN}`, { title: '新标题' }), (_a, b) => t.equal(b.items[0].title, '新标题', 'plan changed'))
    await changes(t, '/v1/indicators', () => write('PATCH', `/v1/indicators/${COV}`, { name: '覆盖率' }), (_a, b) => t.equal(b.items[0].name, '覆盖率', 'indicator changed'))
    await changes(t, '/v1/regions/331000/children', () => write('PATCH', '/v1/regions/331004', { name: '路桥' }), (_a, b) => t.equal(b.items[1].name, '路桥', 'region changed'))
    await changes(t, '/v1/regions/331000/children', () => write('POST', '/v1/regions', { code: '331082', name: '临海市', level: 'county', parentCode: '331000' }), (_a, b) => t.equal(b.items.length, 3, 'region created'))
    await changes(t, '/v1/regions/331000/children', () => write('DELETE', '/v1/regions/331082'), (_a, b) => t.equal(b.items.length, 2, 'region deleted'))
    await write('POST', '/v1/plans', planBody({ id: 'short-lived', title: '临时' }))
    await changes(t, '/v1/plans', () => write('DELETE', '/v1/plans/short-lived'), (a, b) => t.equal(b.items.length, a.items.length - 1, 'plan deleted'))
    const ranking = `/v1/indicators/${COV}/ranking?year=2021&within=331000`
    await changes(t, ranking, () => write('POST', '/v1/values/import', { values: [actual(2021, '99', '331004')] }), (_a, b) => t.equal(b.items[0].regionCode, '331004', 'the ranking follows'))
  })

  t.test('a request that arrives while a version query is under way does not share it', async (t) => {
    // A version query whose snapshot was taken before a write must not answer a request
    // that arrived after the write was acknowledged: it waits for the next query.
    const url = '/v1/values?region=331003'
    const before = await get(url)
    const release = spy.holdVersions()
    const first = get(url)
    await new Promise((resolve) => setTimeout(resolve, 50)) // its version query has run, its answer is held
    await write('POST', '/v1/values', actual(2019, '70'))
    const second = get(url, { 'if-none-match': before.headers.etag as string })
    const third = get(url)
    await new Promise((resolve) => setTimeout(resolve, 50))
    release()
    t.equal((await first).headers.etag, before.headers.etag, 'the held query saw the data before the write')
    const res = await second
    t.equal(res.statusCode, 200, 'the request after the write got a newer version')
    t.ok(json(res).items.some((v: { year: number }) => v.year === 2019), 'and the new data')
    t.ok(json(await third).items.some((v: { year: number }) => v.year === 2019), 'so did a plain read after the write')
  })

  t.test('concurrent conditional reads share version queries', async (t) => {
    const tag = (await get('/v1/plans')).headers.etag as string
    spy.otherWork()
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/v1/plans', { 'if-none-match': tag })))
    t.ok(answers.every((a) => a.statusCode === 304 && a.headers.etag === tag))
    const { versions } = spy.otherWork()
    t.ok(versions >= 1 && versions < 20, `20 reads, ${versions} version queries`)
  })

  t.test('full answers tag with a version known for up to a second, then ask for a newer one', { skip: memoryBytes > 0 ? 'with the in-process cache every read takes a fresh version' : false }, async (t) => {
    const url = '/v1/values?region=331003&kind=actual'
    await get(url, { 'if-none-match': '"none"' }) // a fresh version is known
    spy.otherWork()
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(url)))
    t.ok(answers.every((a) => a.statusCode === 200 && a.headers.etag === answers[0]!.headers.etag))
    t.equal(spy.otherWork().versions, 0, 'no version query within the second')
    // The tag of an answer read after a write, from the older version, is still right: it
    // only ends sooner. The client's copy is replaced at its next conditional request.
    await write('POST', '/v1/values', actual(2017, '65'))
    const after = await get(url)
    t.ok(json(after).items.some((v: { year: number }) => v.year === 2017), 'the answer has the write')
    const revalidated = await get(url, { 'if-none-match': after.headers.etag as string })
    t.equal(revalidated.statusCode, after.headers.etag === answers[0]!.headers.etag ? 200 : 304, 'an older tag gets the full answer, a current one 304')
    t.ok(json(revalidated.statusCode === 200 ? revalidated : after).items.some((v: { year: number }) => v.year === 2017))
    await new Promise((resolve) => setTimeout(resolve, 1100))
    spy.otherWork()
    await get(url)
    t.equal(spy.otherWork().versions, 1, 'after a second, a full answer sets off one version query')
  })

  t.test('a write committed late by a transaction that began before the read changes the tag', { skip: databaseUrl === undefined || databaseUrl === '' ? 'needs two connections (PostgreSQL; the embedded database has one)' : false }, async (t) => {
    const pool = connectionOf(app.db) as pg.Pool
    const url = '/v1/values?region=331003'
    const long = await pool.connect()
    const short = await pool.connect()
    t.teardown(() => { long.release(); short.release() })
    const sql = (year: number) => `insert into yearly_values (kind, region_code, indicator_code, from_year, year, value, status) values ('actual', '331003', '${COV}', ${year}, ${year}, 50, 'final')`

    // The long transaction writes first (lower txid and feed id), a short one commits after it.
    await long.query('begin')
    await long.query(sql(2010))
    const during = await get(url)
    t.notOk(json(during).items.some((v: { year: number }) => v.year === 2010), 'not visible yet')
    await short.query(sql(2011))
    const afterShort = await get(url, { 'if-none-match': during.headers.etag as string })
    t.equal(afterShort.statusCode, 200, 'the short commit changed the tag')
    t.ok(json(afterShort).items.some((v: { year: number }) => v.year === 2011))
    await long.query('commit')
    const afterLong = await get(url, { 'if-none-match': afterShort.headers.etag as string })
    t.equal(afterLong.statusCode, 200, 'the late commit of the earlier transaction changed it too')
    t.ok(json(afterLong).items.some((v: { year: number }) => v.year === 2010), 'and its write is in the answer')

    // A transaction open across both reads that commits nothing to the data changes nothing.
    await long.query('begin')
    await long.query('select pg_current_xact_id()')
    const open = await get(url)
    await long.query('commit')
    t.equal((await get(url, { 'if-none-match': open.headers.etag as string })).statusCode, 304, 'a transaction that wrote no data does not change the tag')
  })

  t.test('a repeated full read comes from memory when the cache is on, and never after a write', { skip: memoryBytes === 0 ? 'the in-process cache is off' : false }, async (t) => {
    const url = '/v1/values?region=331003&kind=actual'
    const first = await get(url)
    spy.otherWork()
    const again = await get(url)
    t.equal(again.body, first.body, 'the same answer')
    t.equal(again.headers.etag, first.headers.etag)
    t.equal(again.headers['content-type'], first.headers['content-type'])
    t.same(spy.otherWork().others, [], 'without the route\'s query')
    await write('POST', '/v1/values', actual(2018, '60'))
    const after = await get(url)
    t.ok(json(after).items.some((v: { year: number }) => v.year === 2018), 'the next read after a write has it')
    const csv = await get(url, { accept: 'text/csv' })
    t.match(csv.headers['content-type'], /^text\/csv/, 'a stream is answered, not a kept JSON answer')
  })
}

const databaseUrl = process.env.DATABASE_URL
t.test('without the in-process cache', (t) => suite(t, 0))
t.test('with the in-process cache', (t) => suite(t, 16 * 2 ** 20))

t.test('Cache-Control follows the configuration', async (t) => {
  const check = async (options: Parameters<typeof build>[1], expected: string, headers: Record<string, string> = {}) => {
    const other = await build(t, options)
    const reader = options?.readsRequireToken === true ? { authorization: `Bearer ${await tokenFor(other, 'reader')}` } : {}
    const res: LightMyRequestResponse = await other.inject({ url: '/v1/regions', headers: { ...reader, ...headers } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], expected)
    const notModified = await other.inject({ url: '/v1/regions', headers: { ...reader, 'if-none-match': res.headers.etag as string } })
    t.equal(notModified.statusCode, 304)
    t.equal(notModified.headers['cache-control'], expected)
  }
  await check({ auth: 'none', readsRequireToken: true }, 'private, no-cache')
  await check({ auth: 'none', caching: { maxAge: 0, staleWhileRevalidate: 30 } }, 'public, no-cache')
  await check({ auth: 'none', caching: { maxAge: 60, staleWhileRevalidate: 600 } }, 'public, max-age=60, stale-while-revalidate=600')
})
