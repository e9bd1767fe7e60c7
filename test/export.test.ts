import t from 'tap'
import { build, call, collect, createIndicator, createPlan, createRegions, json } from './helper.ts'

const app = await build(t)
await createRegions(app)
await createIndicator(app)
await createIndicator(app, { code: 'new-employment', name: '新增残疾人就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createPlan(app)

const values = [
  { kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year: 2021, value: '120', note: '含逗号, 和"引号"\n换行' },
  { kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year: 2023, value: '130.25', status: 'provisional', asOf: '2023-09-30' },
  { kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', fromYear: 2021, year: 2025, value: '700' },
  { kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year: 2025, value: '150', breakdown: { category: 'mental', sex: 'female' } },
  { kind: 'actual', regionCode: '331004', indicatorCode: 'new-employment', year: 2022, value: '80' },
  { kind: 'actual', regionCode: '330683', indicatorCode: 'hardship-subsidy-coverage', year: 2020, value: '98', numerator: '980', denominator: '1000' },
  { kind: 'target', planId: 'huangyan-14th-fyp', regionCode: '331003', indicatorCode: 'new-employment', year: 2025, value: '160', binding: 'binding', baselineYear: 2020, baselineValue: '100', source: 'doc §1' }
]
const imported = await call(app, 'POST', '/v1/values/import', { values })
t.equal(imported.statusCode, 200, imported.body)

t.test('CSV export: streamed, with the import columns, and imports back unchanged', async (t) => {
  const res = await app.inject('/v1/values?format=csv&breakdown=*')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv/)
  const lines = res.body.split('\n')
  t.equal(lines[0], 'kind,planId,regionCode,indicatorCode,fromYear,year,breakdown,value,status,numerator,denominator,asOf,comparator,binding,baselineYear,baselineValue,qualitative,source,note')
  t.match(res.body, /category:mental,sex:female/)
  t.match(res.body, /"含逗号, 和""引号""\n换行"/, 'RFC 4180 quoting')

  const viaAccept = await app.inject({ url: '/v1/values?breakdown=*', headers: { accept: 'text/csv' } })
  t.equal(viaAccept.body, res.body, 'Accept: text/csv gives the same document')

  const back = await app.inject({ method: 'POST', url: '/v1/values/import', headers: { 'content-type': 'text/csv' }, payload: res.body })
  t.equal(back.statusCode, 200, back.body)
  t.match(json(back), { received: values.length, unchanged: values.length, created: 0, updated: 0, rejected: 0 })

  const filtered = await app.inject('/v1/values?format=csv&region=331004')
  t.equal(filtered.body.trim().split('\n').length, 2, 'header and the one matching row')
})

t.test('CSV export of many rows crosses batch boundaries', async (t) => {
  const many = Array.from({ length: 4500 }, (_, i) => ({ kind: 'actual', regionCode: '330683001', indicatorCode: 'new-employment', year: 2000 + (i % 100), fromYear: 2000 + (i % 100) - Math.floor(i / 100), value: String(i) }))
  const res = await call(app, 'POST', '/v1/values/import', { values: many })
  t.equal(json(res).created, 4500, res.body.slice(0, 300))
  const csv = await app.inject('/v1/values?format=csv&region=330683001')
  t.equal(csv.body.trim().split('\n').length, 4501)
})

t.test('latest=true: the most recent actual per region and indicator', async (t) => {
  const latest = await collect(app, '/v1/values?latest=true&region=330000&includeDescendants=true')
  const byRegion = latest.map((v) => [v.regionCode, v.indicatorCode, v.year, v.fromYear, v.value])
  t.same(byRegion.filter((r) => r[0] !== '330683001'), [
    ['330683', 'hardship-subsidy-coverage', 2020, 2020, '98'],
    // 2025 has a 2021-2025 total only (the 2025 single-year figure is a breakdown): it is the latest
    ['331003', 'new-employment', 2025, 2021, '700'],
    ['331004', 'new-employment', 2022, 2022, '80']
  ])
  const mental = await collect(app, '/v1/values?latest=true&region=331003&breakdown=category:mental,sex:female')
  t.match(mental, [{ year: 2025, value: '150' }])
  const page = json(await app.inject('/v1/values?latest=true&region=330000&includeDescendants=true&limit=1'))
  t.equal(page.items.length, 1)
  t.type(page.nextCursor, 'string')
  t.equal((await app.inject('/v1/values?latest=true&kind=target')).statusCode, 400)
  t.equal((await app.inject('/v1/values?latest=true&format=csv')).statusCode, 400)
  t.equal((await app.inject('/v1/values?latest=true&cursor=WzEsMl0')).statusCode, 400, 'a cursor of the plain list is refused')
})
