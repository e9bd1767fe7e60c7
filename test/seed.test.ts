import t from 'tap'
import { build, collect, feedSettled, json } from './helper.ts'

// Facts picked from the five source documents (seed/sources/<plan id>.txt), looked up through the API
// on a database loaded by the seed loader.
const app = await build(t, { seed: true })

async function one (query: string) {
  const res = await app.inject(`/v1/values?${query}`)
  t.equal(res.statusCode, 200, query)
  const items = json(res).items
  t.equal(items.length, 1, `exactly one value for ${query}`)
  return items[0]
}

t.test('region tree shape', async (t) => {
  const count = async (query: string) => (await collect(app, `/v1/regions?${query}`)).length
  t.equal(await count('level=national'), 1)
  t.equal(await count('level=province'), 31, '31 provincial-level divisions')
  t.equal(await count('level=prefecture'), 333)
  t.equal(await count('level=county'), 2975)

  const beijingDistrict = json(await app.inject('/v1/regions/110101'))
  t.equal(beijingDistrict.name, '东城区')
  t.equal(beijingDistrict.parentCode, '110000', 'a municipality district sits directly under the municipality')
  const xiantao = json(await app.inject('/v1/regions/429004'))
  t.match(xiantao, { name: '仙桃市', level: 'county', parentCode: '420000' }, 'province-administered county')
  const dongguan = json(await app.inject('/v1/regions/441900'))
  t.match(dongguan, { name: '东莞市', level: 'prefecture', parentCode: '440000' })

  const shengzhou = json(await app.inject('/v1/regions/330683/children'))
  t.equal(shengzhou.items.length, 15, '嵊州市 has 15 townships and streets')
  t.ok(shengzhou.items.every((r: { level: string }) => r.level === 'township'))
  const ancestors = json(await app.inject('/v1/regions/330683102/ancestors')).items.map((r: { code: string }) => r.code)
  t.same(ancestors, ['100000', '330000', '330600', '330683'], '崇仁镇 → 嵊州市 → 绍兴市 → 浙江省 → national')
  t.ok(json(await app.inject('/v1/regions/331003/children')).items.length > 0, '黄岩区 townships loaded')
})

t.test('plans: each document with its metadata', async (t) => {
  const zhejiang = json(await app.inject('/v1/plans/zhejiang-dpf-2023-work-points'))
  t.match(zhejiang, {
    kind: 'annual-work-plan', regionCode: '330000', issuer: '浙江省残疾人联合会',
    documentNumber: '浙残联发〔2023〕1号', startYear: 2023, endYear: 2023, issuedOn: '2023-02-03', publishedOn: '2023-03-06'
  })
  const huangyan = json(await app.inject('/v1/plans/huangyan-disability-14th-fyp'))
  t.match(huangyan, { kind: 'five-year-plan', regionCode: '331003', startYear: 2021, endYear: 2025, baselineYear: 2020 })
  t.match(json(await app.inject('/v1/plans/hangzhou-dpf-2017-work-points')), { documentNumber: '杭残联〔2017〕20号', regionCode: '330100', issuedOn: '2017-04-06' })
  t.match(json(await app.inject('/v1/plans/jilin-dpf-2019-work-points')), { documentNumber: '吉残联发〔2019〕7号', regionCode: '220000' })
  t.match(json(await app.inject('/v1/plans/shengzhou-dpf-2021-work-summary')), { kind: 'work-summary', regionCode: '330683' })
  const all = json(await app.inject('/v1/plans'))
  t.equal(all.items.length, 5)
})

t.test('黄岩区 five-year plan: binding target with its baseline (专栏1)', async (t) => {
  const target = await one('plan=huangyan-disability-14th-fyp&indicator=hardship-subsidy-coverage')
  t.match(target, {
    kind: 'target', regionCode: '331003', fromYear: 2025, year: 2025, value: '99',
    comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '98'
  })
  t.match(target.note, /困难残疾人生活补贴覆盖率/)
  t.match(target.source, /huangyan-disability-14th-fyp/)
  const indicator = json(await app.inject('/v1/indicators/hardship-subsidy-coverage'))
  t.match(indicator, { unit: 'percent', min: '0', max: '100' })

  const qualitative = await one('plan=huangyan-disability-14th-fyp&indicator=household-income-growth')
  t.match(qualitative, { value: null, qualitative: '与全区GDP增长同步', fromYear: 2021, year: 2025, binding: 'expected' })

  const baselineActual = await one('region=331003&kind=actual&indicator=hardship-subsidy-coverage&from=2020&to=2020')
  t.match(baselineActual, { value: '98', status: 'final' })
  t.match(baselineActual.note, /99/, 'the contradicting 99% of section 一(一) is cited beside the kept 98')
})

t.test('杭州 2017 work points: count targets', async (t) => {
  const retrofit = await one('plan=hangzhou-dpf-2017-work-points&indicator=home-accessibility-retrofit')
  t.match(retrofit, { regionCode: '330100', year: 2017, value: '1520', comparator: 'at-least' }, 'a plain quota is a floor')
  t.match(retrofit.note, /为1520户残疾人家庭提供无障碍改造/)
  const subsidy = await one('plan=hangzhou-dpf-2017-work-points&indicator=hardship-subsidy-beneficiaries')
  t.match(subsidy, { value: '58200', comparator: 'at-least' })
  const indicator = json(await app.inject('/v1/indicators/hardship-subsidy-beneficiaries'))
  t.equal(indicator.unit, 'persons')
})

t.test('浙江 2023 work points', async (t) => {
  const employment = await one('plan=zhejiang-dpf-2023-work-points&indicator=new-stable-employment')
  t.match(employment, { regionCode: '330000', year: 2023, value: '4000', comparator: 'at-least' })
  t.match(employment.source, /浙残联发〔2023〕1号/)
})

t.test('嵊州 work summary: partial-year and multi-year actuals', async (t) => {
  const amount = await one('region=330683&kind=actual&indicator=hardship-subsidy-expenditure&from=2021&to=2021')
  t.match(amount, { value: '789.55', asOf: '2021-09-30', status: 'provisional' }, '截止9月底: a part-year figure')
  t.equal(json(await app.inject('/v1/indicators/hardship-subsidy-expenditure')).unit, 'cny-10k')
  const people = await one('region=330683&kind=actual&indicator=hardship-subsidy-beneficiaries&from=2021&to=2021')
  t.match(people, { value: '3491', asOf: '2021-09-30' })
  const fiveYears = await one('region=330683&kind=actual&indicator=home-accessibility-retrofit')
  t.match(fiveYears, { fromYear: 2017, year: 2021, value: '531' }, '过去五年 recorded as 2017-2021, not squeezed into one year')
  const township = await one('region=330683102&kind=target')
  t.match(township, { indicatorCode: 'accessible-communities', year: 2021 }, '崇仁镇 target sits on the township')
  const underCounty = json(await app.inject('/v1/values?region=330683&includeDescendants=true&kind=target&limit=100'))
  t.ok(underCounty.items.some((v: { regionCode: string }) => v.regionCode.length === 9), 'township targets appear under the county')
})

t.test('吉林 2019 work points: breakdown by area', async (t) => {
  const urban = await one('plan=jilin-dpf-2019-work-points&indicator=new-employment&breakdown=area:urban')
  t.match(urban, { regionCode: '220000', value: '7000', breakdown: { area: 'urban' } })
  const totals = json(await app.inject('/v1/values?plan=jilin-dpf-2019-work-points&indicator=new-employment'))
  t.equal(totals.items.length, 0, 'the urban figure is a breakdown, not the total')
})

t.test('loading the seed again changes nothing', async (t) => {
  const { loadSeed } = await import('../src/seed/load.ts')
  const { default: pino } = await import('pino')
  await feedSettled(app)
  const feed = json(await app.inject('/v1/changes?limit=1000'))
  let cursor = feed.nextCursor
  for (let page = feed; page.hasMore; cursor = page.nextCursor) page = json(await app.inject(`/v1/changes?limit=1000&after=${cursor}`))
  const summary = await loadSeed(app.db, pino({ level: 'silent' }))
  t.match(summary, {
    regions: { created: 0, updated: 0 },
    targets: { created: 0, updated: 0, deleted: 0, unchanged: 122 },
    actuals: { created: 0, updated: 0, unchanged: 75 }
  })
  const after = json(await app.inject(`/v1/changes?after=${cursor}`))
  t.same(after.items, [], 'no change recorded: no revision moved')
})

t.test('seed counts', async (t) => {
  const count = async (query: string) => (await collect(app, `/v1/values?${query}&breakdown=*`)).length
  t.equal(await count('kind=target'), 122)
  t.equal(await count('kind=actual'), 75)
  t.equal((await collect(app, '/v1/indicators')).length, 126)
})
