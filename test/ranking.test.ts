import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { build, call, createIndicator, createRegions, json, zhejiangTree } from './helper.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'
type Row = Record<string, any>

const app = await build(t)

async function post (server: FastifyInstance, body: Row) {
  const res = await call(server, 'POST', '/v1/values', body)
  if (res.statusCode !== 201) throw new Error(`value: ${res.statusCode} ${res.body}`)
  return json(res)
}
const actual = (regionCode: string, indicatorCode: string, year: number, value: string, extra: Row = {}) =>
  post(app, { kind: 'actual', regionCode, indicatorCode, year, value, ...extra })

// Zhejiang counties: 331002, 331003, 331004, 331081 (台州) and 330683 (绍兴); 429004 in Hubei.
await createRegions(app, [
  ...zhejiangTree,
  { code: '331002', name: '椒江区', level: 'county', parentCode: '331000' },
  { code: '331081', name: '温岭市', level: 'county', parentCode: '331000' }
])
await createIndicator(app) // hardship-subsidy-coverage: increase
await createIndicator(app, { code: 'hardship-households', name: '因残致贫户数', unit: 'households', aggregation: 'sum', direction: 'decrease', min: 0, max: null })

const COV = 'hardship-subsidy-coverage'
const HH = 'hardship-households'

await actual('330683', COV, 2023, '99')
await actual('331003', COV, 2023, '98')
await actual('331002', COV, 2023, '98.0') // ties with 98 as a decimal
await actual('331004', COV, 2023, '95', { status: 'provisional' })
await actual('331081', COV, 2022, '100') // another year: 331081 has no 2023 figure
await actual('331081', COV, 2023, '100', { breakdown: { area: 'rural' } }) // a breakdown: not ranked
await actual('331081', COV, 2023, '100', { fromYear: 2021 }) // a multi-year figure: not ranked
await actual('330000', COV, 2023, '97') // the province itself is not a county

await actual('331003', HH, 2023, '300')
await actual('331004', HH, 2023, '200')
await actual('330683', HH, 2023, '200', { status: 'provisional' })

const url = (code: string, query: string) => `/v1/indicators/${code}/ranking?${query}`

t.test('increase: highest first, ties share a rank (1, 2, 2, 4), no-data regions last with rank null', async (t) => {
  const res = await app.inject(url(COV, 'year=2023&within=330000'))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = json(res)
  t.same(body.items.map((i: Row) => [i.rank, i.regionCode, i.value, i.status]), [
    [1, '330683', '99', 'final'],
    [2, '331002', '98.0', 'final'], // 98.0 = 98: tied, listed by code
    [2, '331003', '98', 'final'],
    [4, '331004', '95', 'provisional'], // competition ranking skips 3; a provisional figure is ranked and marked
    [null, '331081', null, null] // no single-year total in 2023
  ])
  t.equal(body.items[0].regionName, '嵊州市')
  t.type(body.items[0].valueId, 'number')
  t.equal(body.items[4].valueId, null)
  t.equal(body.nextCursor, null)
})

t.test('pagination: ranks run on across pages and every region appears once', async (t) => {
  const seen: Row[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await app.inject(url(COV, `year=2023&within=330000&limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`))
    t.equal(res.statusCode, 200)
    const body: { items: Row[], nextCursor: string | null } = json(res)
    t.ok(body.items.length <= 2)
    seen.push(...body.items)
    cursor = body.nextCursor
    pages++
  } while (cursor !== null)
  t.equal(pages, 3)
  t.same(seen.map((i) => `${i.rank as number | null}:${i.regionCode as string}`), ['1:330683', '2:331002', '2:331003', '4:331004', 'null:331081'])
})

t.test('decrease: lowest first', async (t) => {
  const body = json(await app.inject(url(HH, 'year=2023&within=330000')))
  // 200 (330683, provisional), 200 (331004) tie at 1; 300 (331003) is 3rd; 331002 and 331081 have no data.
  t.same(body.items.map((i: Row) => [i.rank, i.regionCode, i.value]), [
    [1, '330683', '200'], [1, '331004', '200'], [3, '331003', '300'], [null, '331002', null], [null, '331081', null]
  ])
})

t.test('defaults: level county, within the whole country', async (t) => {
  const body = json(await app.inject(url(COV, 'year=2023')))
  // Every county of the country: the five of Zhejiang and 429004 (Hubei, no data).
  t.same(body.items.map((i: Row) => i.regionCode), ['330683', '331002', '331003', '331004', '331081', '429004'])
  const provinces = json(await app.inject(url(COV, 'year=2023&level=province')))
  t.same(provinces.items.map((i: Row) => [i.rank, i.regionCode, i.value]), [[1, '330000', '97'], [null, '420000', null]])
  const nothing = json(await app.inject(url(COV, 'year=2019&within=331000')))
  t.same(nothing.items.map((i: Row) => i.rank), [null, null, null, null])
})

t.test('failures: 404 unknown indicator or region, 422 level not below, 400 bad query', async (t) => {
  const indicator = await app.inject(url('no-such-indicator', 'year=2023'))
  t.equal(indicator.statusCode, 404)
  t.equal(indicator.headers['content-type'], PROBLEM)
  t.equal(json(indicator).code, 'INDICATOR_NOT_FOUND')
  const region = await app.inject(url(COV, 'year=2023&within=339900'))
  t.equal(region.statusCode, 404)
  t.equal(json(region).code, 'REGION_NOT_FOUND')
  const level = await app.inject(url(COV, 'year=2023&within=330000&level=province'))
  t.equal(level.statusCode, 422)
  t.match(json(level), { code: 'UNPROCESSABLE', errors: [{ field: '/query/level' }] })
  for (const query of ['', 'year=abc', 'year=2023&level=city', 'year=2023&within=33', 'year=2023&limit=0', 'year=2023&foo=1']) {
    const res = await app.inject(url(COV, query))
    t.equal(res.statusCode, 400, query)
    t.equal(json(res).code, 'VALIDATION_FAILED', query)
  }
  const cursor = await app.inject(url(COV, 'year=2023&cursor=bm9wZQ'))
  t.equal(cursor.statusCode, 400)
  t.equal(json(cursor).code, 'INVALID_CURSOR')
})
