import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { build, call, createIndicator, createRegions, json } from './helper.ts'

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

// 浙江省 330000: prefectures 331000 (counties 331003, 331004) and 330600 (county 330683,
// township 330683001); 湖北省 420000 with 429004 directly under the province.
await createRegions(app)
await createIndicator(app) // hardship-subsidy-coverage: ratio, percent
await createIndicator(app, { code: 'new-employment', name: '城乡残疾人新增就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createIndicator(app, { code: 'employment-growth', name: '残疾人就业增长率', unit: 'percent', aggregation: 'none', min: null, max: null })

const EMP = 'new-employment'
const COV = 'hardship-subsidy-coverage'

await actual('331003', EMP, 2022, '100')
await actual('331003', EMP, 2023, '120', { status: 'provisional' })
await actual('331004', EMP, 2022, '50')
await actual('330683', EMP, 2023, '30.5')
await actual('330683001', EMP, 2023, '10')
await actual('331000', EMP, 2023, '125')
const ownEmployment = await actual('330000', EMP, 2023, '160')
await actual('331003', EMP, 2023, '60', { breakdown: { sex: 'female' } }) // a breakdown: not in the totals
await actual('331003', EMP, 2025, '500', { fromYear: 2021 }) // a 2021-2025 figure: never rolled up
await actual('429004', EMP, 2023, '999') // another province

await actual('331003', COV, 2023, '98', { numerator: 490, denominator: 500 })
await actual('331004', COV, 2023, '95', { numerator: 190, denominator: 200 })
await actual('330683', COV, 2023, '99') // a rate without its parts: reported, but not in the ratio
const ownCoverage = await actual('330000', COV, 2023, '97')

t.test('sum at county level: values add up, with reported counts and the own value', async (t) => {
  const res = await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&level=county&from=2021&to=2023`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = json(res)
  t.match(body, { regionCode: '330000', indicatorCode: EMP, aggregation: 'sum', unit: 'persons', breakdown: null, level: 'county', levelSource: 'requested' })
  // 3 counties below 330000: 331003, 331004, 330683 (429004 is in Hubei).
  t.same(body.years, [
    // 2021: nobody reported (the 2021-2025 figure is not a single-year actual)
    { year: 2021, value: null, numerator: null, denominator: null, reportedCount: 0, contributingCount: null, regionCount: 3, own: null, difference: null },
    // 2022: 100 + 50 = 150 from 2 of 3 counties; the province reported nothing itself
    { year: 2022, value: '150', numerator: null, denominator: null, reportedCount: 2, contributingCount: null, regionCount: 3, own: null, difference: null },
    // 2023: 120 (provisional, still counted) + 30.5 = 150.5 from 2 of 3; own 160, difference 160 - 150.5 = 9.5
    { year: 2023, value: '150.5', numerator: null, denominator: null, reportedCount: 2, contributingCount: null, regionCount: 3, own: { id: ownEmployment.id, value: '160', status: 'final' }, difference: '9.5' }
  ])
})

t.test('default level: the region\'s child level, never switched by where the data is', async (t) => {
  // One township value below 330000 must not turn the province's rollup into a township rollup.
  const township = json(await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&level=township`))
  t.same(township.years.map((y: { value: string }) => y.value), ['10'], 'a township did report')
  const body = json(await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&from=2021&to=2023`))
  t.equal(body.level, 'prefecture')
  t.equal(body.levelSource, 'child-level')
  // 331000 reported 125 in 2023; 330600 nothing; no prefecture reported in 2021-2022: empty years with their counts.
  t.match(body.years, [
    { year: 2021, value: null, reportedCount: 0, regionCount: 2 },
    { year: 2022, value: null, reportedCount: 0, regionCount: 2 },
    { year: 2023, value: '125', reportedCount: 1, regionCount: 2, own: { id: ownEmployment.id, value: '160' }, difference: '35' }
  ])

  // Prefectures of 330000: 331000 and 330600; only 331000 reported (125).
  const pref = json(await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&level=prefecture&from=2023&to=2023`))
  t.match(pref.years, [{ year: 2023, value: '125', reportedCount: 1, regionCount: 2, difference: '35' }])

  // A prefecture rolls up its counties: 331000 -> 331003 (120 in 2023) and 331004 (none in 2023).
  const city = json(await app.inject(`/v1/regions/331000/rollup?indicator=${EMP}&from=2023&to=2023`))
  t.match(city, { level: 'county', levelSource: 'child-level', years: [{ year: 2023, value: '120', reportedCount: 1, regionCount: 2, own: { value: '125' }, difference: '5' }] })
})

t.test('breakdown: rolls up only values of that breakdown', async (t) => {
  const body = json(await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&level=county&from=2023&to=2023&breakdown=sex:female`))
  t.same(body.breakdown, { sex: 'female' })
  t.match(body.years, [{ year: 2023, value: '60', reportedCount: 1, regionCount: 3, own: null, difference: null }])
})

t.test('ratio: sum(numerator) / sum(denominator) x 100 over the regions that report both', async (t) => {
  const body = json(await app.inject(`/v1/regions/330000/rollup?indicator=${COV}&level=county&from=2023&to=2023`))
  t.match(body, { aggregation: 'ratio', unit: 'percent', level: 'county' })
  // (490 + 190) / (500 + 200) x 100 = 680 / 700 x 100 = 97.142857142... -> 97.142857
  // 3 counties reported, 2 with numerator and denominator (330683 gave only the rate 99).
  // own 97: difference 97 - 97.142857 = -0.142857
  t.same(body.years, [{
    year: 2023, value: '97.142857', numerator: '680', denominator: '700', reportedCount: 3, contributingCount: 2, regionCount: 3,
    own: { id: ownCoverage.id, value: '97', status: 'final' }, difference: '-0.142857'
  }])
})

t.test('a region with nothing below it, and a leaf county', async (t) => {
  const body = json(await app.inject(`/v1/regions/331003/rollup?indicator=${EMP}&from=2023&to=2023`))
  t.match(body, { level: null, levelSource: 'none-below', years: [{ year: 2023, value: null, reportedCount: 0, regionCount: 0, own: { value: '120', status: 'provisional' }, difference: null }] })
  // Hubei: no data below at any level in 2022 -> the highest level below (county: 429004 sits under the province)
  const hubei = json(await app.inject(`/v1/regions/420000/rollup?indicator=${EMP}&from=2022&to=2022`))
  t.match(hubei, { level: 'county', levelSource: 'child-level', years: [{ year: 2022, value: null, reportedCount: 0, regionCount: 1 }] })
})

t.test('failures: 422 for aggregation none or a level not below, 404 unknown region or indicator, 400 bad query', async (t) => {
  const none = await app.inject('/v1/regions/330000/rollup?indicator=employment-growth')
  t.equal(none.statusCode, 422)
  t.equal(none.headers['content-type'], PROBLEM)
  t.equal(json(none).code, 'INDICATOR_NOT_AGGREGABLE')

  const above = await app.inject(`/v1/regions/330000/rollup?indicator=${EMP}&level=province`)
  t.equal(above.statusCode, 422)
  t.match(json(above), { code: 'UNPROCESSABLE', errors: [{ field: '/query/level', code: 'not-below-region' }] })

  const region = await app.inject(`/v1/regions/339999/rollup?indicator=${EMP}`)
  t.equal(region.statusCode, 404)
  t.equal(json(region).code, 'REGION_NOT_FOUND')
  const indicator = await app.inject('/v1/regions/330000/rollup?indicator=no-such-indicator')
  t.equal(indicator.statusCode, 404)
  t.equal(json(indicator).code, 'INDICATOR_NOT_FOUND')

  for (const query of ['', `indicator=${EMP}&from=2024&to=2023`, `indicator=${EMP}&breakdown=*`, `indicator=${EMP}&breakdown=sex:other`, `indicator=${EMP}&level=city`, `indicator=${EMP}&extra=1`, `indicator=${EMP}&from=abc`]) {
    const res = await app.inject(`/v1/regions/330000/rollup?${query}`)
    t.equal(res.statusCode, 400, query)
    t.equal(res.headers['content-type'], PROBLEM, query)
    t.equal(json(res).code, 'VALIDATION_FAILED', query)
  }
})
