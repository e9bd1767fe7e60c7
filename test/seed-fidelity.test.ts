import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { build, call, collect, json } from './helper.ts'

// How the seed models what the five documents (seed/sources/<plan id>.txt) mean: each
// decision of seed/COVERAGE.md looked up through the API after a fresh start, and the
// progress a reader of the documents would give each plan.
const app = await build(t, { seed: true })

type Row = Record<string, any>

async function values (query: string): Promise<Row[]> {
  return collect(app, `/v1/values?${query}&breakdown=*`)
}
async function one (query: string): Promise<Row> {
  const items = await values(query)
  if (items.length !== 1) throw new Error(`${query}: ${items.length} values, not one`)
  return items[0]!
}
async function indicator (code: string) {
  const res = await app.inject(`/v1/indicators/${code}`)
  return { status: res.statusCode, body: json(res) }
}
async function progress (planId: string, asOf?: number, method = 'linear') {
  const res = await app.inject(`/v1/plans/${planId}/progress?method=${method}${asOf === undefined ? '' : `&asOf=${asOf}`}`)
  if (res.statusCode !== 200) throw new Error(`progress ${planId}: ${res.statusCode} ${res.body}`)
  return json(res)
}
const counts = (partial: Partial<Record<string, number>>) => ({
  total: 0, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 0, 'not-assessable': 0, ...partial
})

t.test('quotas are floors: no seed target is `exactly`', async (t) => {
  const targets = await values('kind=target')
  t.equal(targets.length, 122)
  t.same(targets.filter((v) => v.comparator === 'exactly').map((v) => `${v.planId} ${v.indicatorCode}`), [],
    'no text fixes an amount that exceeding would miss')
  const retrofit = await one('plan=zhejiang-dpf-2023-work-points&indicator=public-place-accessibility-retrofit')
  t.match(retrofit, { regionCode: '330000', year: 2023, value: '1000', comparator: 'at-least' })
  t.match(retrofit.note, /^完成重要公共服务场所无障碍改造1000个 /)
  t.match(await one('plan=jilin-dpf-2019-work-points&indicator=new-employment'), { value: '7000', comparator: 'at-least', breakdown: { area: 'urban' } })
  const training = await values('plan=huangyan-disability-14th-fyp&indicator=vocational-training-person-times')
  t.same(training.map((v) => [v.fromYear, v.year, v.value, v.comparator]),
    [2021, 2022, 2023, 2024, 2025].map((y) => [y, y, '200', 'at-least']), '每年精准培训残疾人200人次: a floor each year')
})

t.test('a rate or a stock describes a year: Shengzhou end-of-period figures', async (t) => {
  const rates: Array<[string, string]> = [
    ['home-retrofit-rate', '90'], ['basic-rehab-coverage', '90'], ['assistive-device-fitting-rate', '85'],
    ['institutional-care-rate', '65'], ['employment-rate-able-willing', '80'], ['employment-training-service-rate', '70'],
    ['accident-insurance-rate', '100']
  ]
  for (const [code, value] of rates) {
    const all = await values(`region=330683&kind=actual&indicator=${code}`)
    t.same(all.map((v) => [v.fromYear, v.year, v.value]), [[2021, 2021, value]], `${code}: one value, for 2021`)
  }
  t.match(await one('region=330683&kind=actual&indicator=households-below-8000-yuan'), { fromYear: 2021, year: 2021, value: '0', status: 'final' })
  // A flow over the five years keeps its period.
  t.match(await one('region=330683&kind=actual&indicator=public-sector-led-employment'), { fromYear: 2017, year: 2021, value: '2' })
})

t.test('part-year figures are provisional; the year-end aim stays a target', async (t) => {
  const provisional = (await values('region=330683&kind=actual&from=2021&to=2021')).filter((v) => v.status === 'provisional')
  t.same(provisional.map((v) => v.indicatorCode).sort(), [
    'children-rehab-completed', 'children-rehab-task-completion-rate', 'cross-province-card-cases',
    'hardship-subsidy-beneficiaries', 'hardship-subsidy-expenditure', 'home-retrofit-task-completion-rate',
    'legal-aid-station-cases', 'quota-employment-reviewed-employers', 'referred-new-employment',
    'severe-care-subsidy-beneficiaries', 'severe-care-subsidy-expenditure', 'smart-card-township-completion-rate',
    'vocational-training-persons'
  ])
  t.ok(provisional.every((v) => v.fromYear === 2021), 'none is a period figure')
  // 截止9月底 dates the subsidy figures; the other texts give no as-of date.
  t.match(await one('region=330683&kind=actual&indicator=severe-care-subsidy-beneficiaries&from=2021&to=2021'), { value: '10400', status: 'provisional', asOf: '2021-09-30' })
  t.match(await one('region=330683&kind=actual&indicator=children-rehab-completed'), { year: 2021, value: '28', status: 'provisional', asOf: null })
  const card = await one('region=330683&kind=actual&indicator=smart-card-township-completion-rate')
  t.match(card, { value: '40', numerator: '6', denominator: '15', status: 'provisional', asOf: null })
  t.match(await one('plan=shengzhou-dpf-2021-work-summary&indicator=smart-card-township-completion-rate'),
    { kind: 'target', year: 2021, value: null, qualitative: '力争在年底基本完成' })
  // Stocks counted at the time of writing are levels, not part of a flow: final.
  t.match(await one('region=330683&kind=actual&indicator=disability-homes'), { year: 2021, value: '12', status: 'final' })
})

t.test('a floor per unit is qualitative, in Huangyan as in Hangzhou', async (t) => {
  const huangyan = await one('plan=huangyan-disability-14th-fyp&indicator=public-sector-led-employment')
  t.match(huangyan, { regionCode: '331003', value: null, comparator: 'at-least', qualitative: '党政机关事业单位和国有企业带头安置残疾人就业1人以上' })
  const hangzhou = await one('plan=hangzhou-dpf-2017-work-points&indicator=public-sector-led-employment')
  t.match(hangzhou, { regionCode: '330100', value: null, comparator: 'at-least', qualitative: /分别带头新招录\(聘\)1名以上/ })
})

t.test('one indicator, one measure', async (t) => {
  for (const gone of ['legal-aid-services', 'poor-disabled-households', 'rehab-training-person-times']) {
    t.equal((await indicator(gone)).status, 404, `${gone} is split`)
  }
  const legal: Array<[string, string, string, number, string]> = [
    ['legal-aid-times', 'events', '331003', 2016, '100'],
    ['legal-aid-station-person-times', 'person-times', '330683', 2017, '100'],
    ['legal-aid-station-cases', 'items', '330683', 2021, '24']
  ]
  for (const [code, unit, region, fromYear, value] of legal) {
    t.equal((await indicator(code)).body.unit, unit, `${code} counts ${unit}`)
    t.match(await one(`kind=actual&indicator=${code}`), { regionCode: region, fromYear, value })
  }
  // Three poverty lines, three indicators.
  t.match(await one('indicator=households-below-4600-yuan'), { planId: 'hangzhou-dpf-2017-work-points', value: null, qualitative: '全面巩固“消除4600元以下贫困现象”成果' })
  t.match(await one('indicator=households-below-8000-yuan'), { regionCode: '330683', value: '0' })
  t.match(await one('indicator=low-income-disabled-households'), { regionCode: '331003', year: 2020, value: '0' })
  // Trained staff apart from training that includes parents.
  t.match(await one('indicator=rehab-staff-training-person-times'), { planId: 'zhejiang-dpf-2023-work-points', value: '600' })
  t.match(await one('indicator=grassroots-rehab-training-person-times'), { planId: 'hangzhou-dpf-2017-work-points', value: '1000' })
  // Children served apart from children who completed rehabilitation.
  t.same((await values('indicator=children-rehab-persons')).map((v) => [v.regionCode, v.value]).sort(), [['330000', '10000'], ['330100', '400']])
  t.match(await one('indicator=children-rehab-completed'), { regionCode: '330683', value: '28' })
  // The 125 referred jobs are a part of new employment, not new employment.
  t.match(await one('indicator=referred-new-employment'), { regionCode: '330683', year: 2021, value: '125' })
  t.same(await values('region=330683&kind=actual&indicator=new-employment'), [])
})

t.test('doubtful regions and inferred values', async (t) => {
  for (const code of ['newborn-screening-rate', 'newborn-intervention-rate']) {
    t.match(await one(`plan=hangzhou-dpf-2017-work-points&indicator=${code}`), { regionCode: '330110', value: '99' }, `${code}: the 余杭区 pilot clause`)
  }
  t.match(await one('plan=hangzhou-dpf-2017-work-points&indicator=counties-with-screening-intervention-system'), { regionCode: '330100', value: '60' })
})

t.test('binding class: only the Huangyan table says 约束性', async (t) => {
  const targets = await values('kind=target')
  const binding = targets.filter((v) => v.binding === 'binding')
  t.equal(binding.length, 9, '专栏1 rows 2-6 and 10-13')
  t.ok(binding.every((v) => v.planId === 'huangyan-disability-14th-fyp' && /约束性/.test(v.note)))
  t.ok(targets.filter((v) => v.planId !== 'huangyan-disability-14th-fyp').every((v) => v.binding === 'expected'))
})

t.test('progress of the five plans', async (t) => {
  // Work plans state aims, and no document reports what came of them: no data, apart from
  // the qualitative aims.
  for (const [planId, total, qualitative] of [
    ['zhejiang-dpf-2023-work-points', 15, 0], ['hangzhou-dpf-2017-work-points', 48, 3], ['jilin-dpf-2019-work-points', 9, 0]
  ] as const) {
    const body = await progress(planId)
    t.same(body.summary, { binding: counts({}), expected: counts({ total, 'no-data': total - qualitative, 'not-assessable': qualitative }) }, planId)
  }

  // Shengzhou's 2021 tasks: the summary reports construction under way and acceptance pending,
  // but no count of homes, households or communities completed.
  const shengzhou = await progress('shengzhou-dpf-2021-work-summary')
  t.same(shengzhou.summary.expected, counts({ total: 8, 'no-data': 7, 'not-assessable': 1 }))
  const card = shengzhou.items.find((i: Row) => i.indicatorCode === 'smart-card-township-completion-rate')
  t.match(card, { status: 'not-assessable', actual: { value: '40', status: 'provisional' }, provisional: true })

  // Huangyan: the document reports 2020, its baseline year, and nothing of 2021-2025. An
  // actual from before the plan's period is not progress: every numeric target is no-data,
  // under every method, with its baseline still shown.
  for (const method of ['linear', 'projection', 'growth-ratio']) {
    const huangyan = await progress('huangyan-disability-14th-fyp', 2023, method)
    t.equal(huangyan.summary.binding.total, 9)
    t.equal(huangyan.summary.expected.total, 33)
    t.equal(huangyan.summary.expected['not-assessable'], 2, '年均增长与全区GDP增长同步 and the per-unit floor')
    t.same(huangyan.summary.binding, counts({ total: 9, 'no-data': 9 }), `${method}: binding rows`)
    t.equal(huangyan.summary.expected['no-data'], 31, `${method}: expected rows`)
    const item = (code: string) => huangyan.items.find((i: Row) => i.indicatorCode === code && i.fromYear === 2025)
    t.match(item('standard-children-rehab-institution-coverage'), { status: 'no-data', actual: null, baselineYear: 2020, baselineValue: '44', attainment: null })
    t.match(item('disability-home-coverage'), { status: 'no-data', baselineValue: '100' })
  }
})

t.test('a floor in progress: exceeding a quota achieves it', async (t) => {
  const res = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '330000', indicatorCode: 'public-place-accessibility-retrofit', year: 2023, value: '1100' })
  t.equal(res.statusCode, 201)
  const body = await progress('zhejiang-dpf-2023-work-points', 2023)
  const item = body.items.find((i: Row) => i.indicatorCode === 'public-place-accessibility-retrofit')
  t.match(item, { comparator: 'at-least', target: '1000', actual: { value: '1100' }, attainment: '1.1', status: 'achieved' })
})

t.test('temporal nature: every indicator states one, as seed/COVERAGE.md decides', async (t) => {
  // The file states each nature, so the API's default (stock unless percent) decides none.
  const file: Row[] = JSON.parse(readFileSync(new URL('../seed/indicators.json', import.meta.url), 'utf8'))
  t.same(file.filter((i) => !['flow', 'stock', 'rate'].includes(i.nature)).map((i) => i.code), [], 'no entry leaves its nature to the default')
  const catalogue = await collect(app, '/v1/indicators')
  t.equal(catalogue.length, 126)
  const nature = new Map(catalogue.map((i: Row) => [i.code as string, i.nature as string]))
  t.same(file.filter((i) => nature.get(i.code) !== i.nature).map((i) => i.code), [], 'the API serves the nature the file states')
  t.same(catalogue.filter((i: Row) => (i.unit === 'percent') !== (i.nature === 'rate')).map((i: Row) => i.code), [],
    'the percent indicators are the rates')
  t.same([...nature.values()].reduce<Record<string, number>>((n, v) => ({ ...n, [v]: (n[v] ?? 0) + 1 }), {}), { flow: 49, stock: 34, rate: 43 })

  // A figure over several years is a sum, so only a flow can carry one; the one exception is
  // the qualitative 年均增长 of household income, an annual average.
  const periods = [...await values('kind=target'), ...await values('kind=actual')].filter((v) => v.fromYear < v.year)
  t.same(periods.filter((v) => nature.get(v.indicatorCode) !== 'flow').map((v) => [v.indicatorCode, v.fromYear, v.year, v.value]),
    [['household-income-growth', 2021, 2025, null]], 'every period figure belongs to a flow')

  const pins: Array<[string, string, string]> = [
    ['accessible-film-screenings', 'flow', 'Huangyan 开展无障碍观影志愿服务100场次 over 2021-2025: the yearly screenings add up'],
    ['hardship-subsidy-expenditure', 'flow', 'money paid out in a year'],
    ['disability-homes', 'stock', 'homes in operation at a date'],
    ['hardship-subsidy-beneficiaries', 'stock', 'the same persons receive the subsidy every year; the five-year total is in 人次'],
    ['hardship-subsidy-person-times', 'flow', '人次 add up'],
    ['quota-employment-reviewed-employers', 'flow', 'doubtful: 2884家 over five years adds yearly reviews of the same employers'],
    ['education-assistance-persons', 'flow', 'doubtful: Huangyan reports a 十三五 total in 名'],
    ['basic-rehab-service-persons', 'stock', 'doubtful: 全年提供…服务7000人, persons served again the next year']
  ]
  for (const [code, expected, why] of pins) {
    t.equal((await indicator(code)).body.nature, expected, `${code}: ${why}`)
  }
})

t.test('every note starts with a verbatim excerpt of its document', async (t) => {
  // The excerpt is the note before its first [editor remark]; `…` joins fragments, which
  // must occur in the document in that order. Compared character for character: no
  // normalisation of spaces or punctuation.
  const seed = new URL('../seed/', import.meta.url)
  const rows: Row[] = readdirSync(new URL('values/', seed)).flatMap((file) => {
    const plan = JSON.parse(readFileSync(new URL(`values/${file}`, seed), 'utf8'))
    return [...plan.targets, ...plan.actuals].map((v: Row) => ({ ...v, planId: plan.planId }))
  })
  rows.push(...JSON.parse(readFileSync(new URL('conflicts.json', seed), 'utf8')))
  t.equal(rows.length, 199)
  const sources = new Map<string, string>()
  const missing: string[] = []
  for (const v of rows) {
    if (!sources.has(v.planId)) sources.set(v.planId, readFileSync(new URL(`sources/${v.planId}.txt`, seed), 'utf8'))
    const text = sources.get(v.planId)!
    const bracket = v.note.indexOf(' [')
    const excerpt: string = bracket < 0 ? v.note : v.note.slice(0, bracket)
    let from = 0
    for (const fragment of excerpt.split('…')) {
      const at = fragment === '' ? -1 : text.indexOf(fragment, from)
      if (at < 0) {
        missing.push(`${v.planId} ${v.indicatorCode}: ${fragment}`)
        break
      }
      from = at + fragment.length
    }
  }
  t.same(missing, [], 'every excerpt occurs word for word')
})
