import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { currentYear } from '../src/modules/progress/progress.routes.ts'
import { assessTarget, type TargetFacts } from '../src/modules/progress/progress.service.ts'
import { build, call, createIndicator, createPlan, createRegions, json } from './helper.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'
type Row = Record<string, any>

const app = await build(t)

async function post (server: FastifyInstance, body: Row) {
  const res = await call(server, 'POST', '/v1/values', body)
  if (res.statusCode !== 201) throw new Error(`value: ${res.statusCode} ${res.body}`)
  return json(res)
}
const actual = (indicatorCode: string, year: number, value: string | number, extra: Row = {}) =>
  post(app, { kind: 'actual', regionCode: '331003', indicatorCode, year, value, ...extra })

async function putTargets (planId: string, targets: Row[]) {
  const res = await call(app, 'PUT', `/v1/plans/${planId}/targets`, { targets })
  if (res.statusCode !== 200) throw new Error(`targets: ${res.statusCode} ${res.body}`)
}

await createRegions(app)
await createIndicator(app) // hardship-subsidy-coverage: percent 0..100, increase
await createIndicator(app, { code: 'new-employment', name: '城乡残疾人新增就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createIndicator(app, { code: 'hardship-households', name: '因残致贫户数', unit: 'households', aggregation: 'sum', direction: 'decrease', min: 0, max: null })

// A five-year plan 2021-2025 with baseline year 2020, and an annual work plan for 2023.
await createPlan(app, { id: 'huangyan-14th' })
await createPlan(app, { id: 'huangyan-2023', title: '黄岩区2023年残疾人工作要点', kind: 'annual-work-plan', startYear: 2023, endYear: 2023, baselineYear: null })

const COV = 'hardship-subsidy-coverage'
const EMP = 'new-employment'
const HH = 'hardship-households'

await putTargets('huangyan-14th', [
  /* T1 */ { regionCode: '331003', indicatorCode: COV, year: 2025, value: '100', comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '95' },
  /* T2 */ { regionCode: '331003', indicatorCode: HH, year: 2025, value: '100', comparator: 'at-most', binding: 'binding', baselineYear: 2020, baselineValue: '500' },
  /* T3 */ { regionCode: '331003', indicatorCode: EMP, year: 2025, value: '5000', comparator: 'at-least' },
  /* T4 */ { regionCode: '331003', indicatorCode: EMP, year: 2025, value: '2000', comparator: 'at-least', breakdown: { sex: 'female' } },
  /* T5 */ { regionCode: '331003', indicatorCode: COV, year: 2025, value: '100', comparator: 'at-least', baselineValue: '100', breakdown: { area: 'rural' } },
  /* T6 */ { regionCode: '331003', indicatorCode: EMP, year: 2025, qualitative: '与全区GDP增长同步', breakdown: { area: 'urban' } },
  /* T7 */ { regionCode: '331003', indicatorCode: EMP, fromYear: 2021, year: 2025, value: '20000', comparator: 'at-least', binding: 'binding' },
  /* T8 */ { regionCode: '331003', indicatorCode: HH, year: 2025, value: '50', comparator: 'at-most', breakdown: { area: 'urban' } }
])
await putTargets('huangyan-2023', [
  /* B1 */ { regionCode: '331003', indicatorCode: EMP, year: 2023, value: '4000', comparator: 'at-least', baselineYear: 2022, baselineValue: '3000' },
  /* B2 */ { regionCode: '331003', indicatorCode: COV, year: 2023, value: '98', comparator: 'exactly' },
  /* B3 */ { regionCode: '331003', indicatorCode: HH, year: 2023, value: '300', comparator: 'at-most', binding: 'binding' }
])

await actual(COV, 2021, '96')
await actual(COV, 2022, '97', { status: 'provisional' })
await actual(COV, 2024, '99.5') // newer than asOf=2023: ignored then
await actual(COV, 2023, '98', { breakdown: { area: 'rural' } })
await actual(HH, 2023, '300')
await actual(HH, 2023, '80', { breakdown: { area: 'urban' } })
await actual(EMP, 2023, '3500')
await actual(EMP, 2023, '1000', { breakdown: { sex: 'female' } })
await actual(EMP, 2023, '1800', { breakdown: { area: 'urban' } })
await actual(EMP, 2023, '12000', { fromYear: 2021 }) // 2021-2023: not the period of T7 (2021-2025)
await post(app, { kind: 'actual', regionCode: '331004', indicatorCode: COV, year: 2023, value: '50' }) // another county: never used

const byTarget = (items: Row[]) => (indicatorCode: string, breakdown: Row | null, fromYear?: number) =>
  items.find((i) => i.indicatorCode === indicatorCode && JSON.stringify(i.breakdown) === JSON.stringify(breakdown) && (fromYear === undefined || i.fromYear === fromYear))!

t.test('five-year plan at asOf=2023: every rule, computed by hand', async (t) => {
  const res = await app.inject('/v1/plans/huangyan-14th/progress?asOf=2023')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = json(res)
  t.equal(body.planId, 'huangyan-14th')
  t.equal(body.asOf, 2023)
  t.equal(body.method.atRiskShare, '0.6')
  t.match(body.method.attainment, /\(actual - baseline\) \/ \(target - baseline\)/)
  t.equal(body.items.length, 8)
  const item = byTarget(body.items)

  // T1: increase, at-least 100, baseline 95 in 2020. The 2024 actual (99.5) is newer than
  // asOf and ignored; the latest at or before 2023 is 2022 = 97 (provisional).
  // expected(2022) = 95 + (100 - 95) * (2022 - 2020) / (2025 - 2020) = 95 + 5 * 2/5 = 97
  // attainment = (97 - 95) / (100 - 95) = 2/5 = 0.4; 97 >= 97 meets the trajectory: on-track.
  t.match(item(COV, null), {
    actual: { fromYear: 2022, year: 2022, value: '97', status: 'provisional', asOf: null },
    provisional: true, baselineYear: 2020, baselineValue: '95', target: '100', binding: 'binding',
    expected: '97', attainment: '0.4', status: 'on-track', direction: 'increase'
  })

  // T2: decrease indicator, at-most 100, baseline 500 (2020), actual 2023 = 300.
  // expected(2023) = 500 + (100 - 500) * 3/5 = 500 - 240 = 260; lower is better and 300 > 260: not on track.
  // progress made = 500 - 300 = 200; 0.6 of the trajectory's = 0.6 * (500 - 260) = 144; 200 >= 144: at-risk.
  // attainment = (300 - 500) / (100 - 500) = -200 / -400 = 0.5
  t.match(item(HH, null), { actual: { year: 2023, value: '300', status: 'final' }, provisional: false, expected: '260', attainment: '0.5', status: 'at-risk', comparator: 'at-most', direction: 'decrease' })

  // T3: no baseline: attainment = actual / target = 3500 / 5000 = 0.7; no trajectory
  // (expected null), not achieved and 0.7 >= 0.6: at-risk.
  t.match(item(EMP, null, 2025), { actual: { value: '3500' }, expected: null, attainment: '0.7', status: 'at-risk', baselineYear: 2020, baselineValue: null })

  // T4: breakdown sex:female is matched with the female actual (1000), not the total (3500):
  // attainment = 1000 / 2000 = 0.5 < 0.6 and no trajectory: off-track.
  t.match(item(EMP, { sex: 'female' }), { actual: { value: '1000' }, expected: null, attainment: '0.5', status: 'off-track' })

  // T5: baseline equal to the target (hold 100, area:rural): attainment = actual / target = 98 / 100 = 0.98;
  // the trajectory is flat at 100 (expected 100), and 98 falls short of it with no progress: off-track.
  t.match(item(COV, { area: 'rural' }), { actual: { value: '98' }, expected: '100', attainment: '0.98', status: 'off-track', baselineYear: 2020, baselineValue: '100' })

  // T6: qualitative target: not assessable, though an actual exists.
  t.match(item(EMP, { area: 'urban' }), { target: null, qualitative: '与全区GDP增长同步', status: 'not-assessable', attainment: null, expected: null })

  // T7: a 2021-2025 target of a stock (new-employment is created here without a nature: a
  // stock) without a 2021-2025 actual compares with the latest yearly level inside the
  // period, 2023 = 3500; the 2021-2023 figure is neither. attainment = 3500 / 20000 = 0.175,
  // no baseline: no trajectory, below 0.6: off-track. (A flow is summed: progress-methods.test.ts.)
  t.match(item(EMP, null, 2021), { nature: 'stock', actual: { year: 2023, value: '3500' }, cumulative: null, status: 'off-track', attainment: '0.175', expected: null })

  // T8: decrease indicator, no baseline: attainment inverted = target / actual = 50 / 80 = 0.625 >= 0.6: at-risk.
  t.match(item(HH, { area: 'urban' }), { actual: { value: '80' }, attainment: '0.625', expected: null, status: 'at-risk' })

  // Summary: binding = T1 on-track, T2 at-risk, T7 off-track;
  // expected = T3 at-risk, T4 off-track, T5 off-track, T6 not-assessable, T8 at-risk.
  t.same(body.summary, {
    binding: { total: 3, achieved: 0, 'on-track': 1, 'at-risk': 1, 'off-track': 1, 'no-data': 0, 'not-assessable': 0 },
    expected: { total: 5, achieved: 0, 'on-track': 0, 'at-risk': 2, 'off-track': 2, 'no-data': 0, 'not-assessable': 1 }
  })
})

t.test('asOf moves the actual: at 2024 the newer figure counts; before any actual there is no data', async (t) => {
  const at2024 = json(await app.inject('/v1/plans/huangyan-14th/progress?asOf=2024'))
  // T1 at 2024: actual 99.5; expected(2024) = 95 + 5 * 4/5 = 99; 99.5 >= 99: on-track;
  // attainment = (99.5 - 95) / 5 = 0.9
  t.match(byTarget(at2024.items)(COV, null), { actual: { year: 2024, value: '99.5' }, provisional: false, expected: '99', attainment: '0.9', status: 'on-track' })

  const at2020 = json(await app.inject('/v1/plans/huangyan-14th/progress?asOf=2020'))
  t.same(at2020.summary.binding, { total: 3, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 3, 'not-assessable': 0 })
  t.same(at2020.summary.expected, { total: 5, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 4, 'not-assessable': 1 })
})

t.test('asOf defaults to the current calendar year (China time)', async (t) => {
  const body = json(await app.inject('/v1/plans/huangyan-14th/progress'))
  t.equal(body.asOf, currentYear())
  t.ok(body.asOf >= 2025)
  // T1 with every actual available: the latest is 2024 = 99.5, as above.
  t.match(byTarget(body.items)(COV, null), { actual: { year: 2024 }, status: 'on-track' })
  // 2025-12-31T16:00Z is already 2026 in China.
  t.equal(currentYear(new Date('2025-12-31T16:00:00Z')), 2026)
  t.equal(currentYear(new Date('2025-12-31T15:59:59Z')), 2025)
})

t.test('single-year work plan: no trajectory', async (t) => {
  const res = await app.inject('/v1/plans/huangyan-2023/progress?asOf=2023')
  t.equal(res.statusCode, 200)
  const body = json(res)
  const item = byTarget(body.items)
  // B1: baseline 3000 (2022) is stated, but a one-year plan has no trajectory (expected null):
  // attainment = (3500 - 3000) / (4000 - 3000) = 0.5 < 0.6: off-track.
  t.match(item(EMP, null), { expected: null, attainment: '0.5', status: 'off-track', baselineYear: 2022 })
  // B2: exactly 98 in 2023; the latest actual is of 2022 (97), before the plan's period: it
  // says nothing of the plan's progress, so no data.
  t.match(item(COV, null), { actual: null, provisional: false, expected: null, attainment: null, status: 'no-data', reason: /inside the plan's period/ })
  // B3: at-most 300 on a decrease indicator, actual 300: 300 <= 300 achieved; attainment = 300 / 300 = 1.
  t.match(item(HH, null), { status: 'achieved', attainment: '1', expected: null })
  t.same(body.summary, {
    binding: { total: 1, achieved: 1, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 },
    expected: { total: 2, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 1, 'no-data': 1, 'not-assessable': 0 }
  })
})

t.test('exactly: an actual that has passed the fixed amount is off-track, with or without a trajectory', async (t) => {
  // Another county, so the plans above see none of these actuals.
  await createPlan(app, { id: 'luqiao-fixed', regionCode: '331004' })
  await putTargets('luqiao-fixed', [
    /* E1 */ { regionCode: '331004', indicatorCode: EMP, year: 2025, value: '1000', comparator: 'exactly' },
    /* E2 */ { regionCode: '331004', indicatorCode: COV, year: 2025, value: '45', comparator: 'exactly', baselineYear: 2020, baselineValue: '40' },
    /* E3 */ { regionCode: '331004', indicatorCode: HH, year: 2025, value: '100', comparator: 'exactly' }
  ])
  await post(app, { kind: 'actual', regionCode: '331004', indicatorCode: EMP, year: 2023, value: '1100' })
  await post(app, { kind: 'actual', regionCode: '331004', indicatorCode: HH, year: 2023, value: '80' })
  const body = json(await app.inject('/v1/plans/luqiao-fixed/progress?asOf=2023'))
  t.match(body.method.status, /`exactly` fixes an amount/)
  const item = byTarget(body.items)
  // E1: no baseline, 1100 against exactly 1000: attainment 1.1 (past the amount), off-track rather than at-risk.
  t.match(item(EMP, null), { actual: { value: '1100' }, expected: null, attainment: '1.1', status: 'off-track', reason: /has passed the fixed amount/ })
  // E2: baseline 40 (2020), target 45; the 2023 actual is 50 (the county's existing figure):
  // beyond the target as seen from the baseline, attainment (50 - 40) / (45 - 40) = 2. It is above
  // the trajectory (expected(2023) = 40 + 5 * 3/5 = 43), which must not make it on-track.
  t.match(item(COV, null), { actual: { value: '50' }, expected: '43', attainment: '2', status: 'off-track' })
  // E3: a decrease indicator without baseline: 80 is past exactly 100 in the better direction;
  // attainment = 100 / 80 = 1.25.
  t.match(item(HH, null), { actual: { value: '80' }, attainment: '1.25', status: 'off-track' })
  t.same(body.summary.expected, { total: 3, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 3, 'no-data': 0, 'not-assessable': 0 })
})

t.test('a plan without targets answers an empty report', async (t) => {
  await createPlan(app, { id: 'empty-plan' })
  const body = json(await app.inject('/v1/plans/empty-plan/progress?asOf=2023'))
  t.same(body.items, [])
  t.equal(body.summary.binding.total, 0)
})

t.test('failures: 404 unknown plan, 400 bad asOf or unknown parameter', async (t) => {
  const missing = await app.inject('/v1/plans/no-such-plan/progress')
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['content-type'], PROBLEM)
  t.equal(json(missing).code, 'PLAN_NOT_FOUND')
  for (const query of ['asOf=abc', 'asOf=1800', 'asOf=2023.5', 'year=2023']) {
    const res = await app.inject(`/v1/plans/huangyan-14th/progress?${query}`)
    t.equal(res.statusCode, 400, query)
    t.equal(json(res).code, 'VALIDATION_FAILED', query)
  }
  const badId = await app.inject('/v1/plans/Not_A_Slug/progress')
  t.equal(badId.statusCode, 400)
})

t.test('assessTarget: cases the API examples above do not reach', async (t) => {
  const plan = { startYear: 2021, endYear: 2025, baselineYear: 2020 }
  const base: TargetFacts = {
    id: 1, regionCode: '331003', indicatorCode: 'x', fromYear: 2025, year: 2025, breakdown: null, value: '100', comparator: 'at-least',
    binding: 'binding', baselineYear: null, baselineValue: '50', qualitative: null, direction: 'increase',
    actual: { id: 2, fromYear: 2022, year: 2022, value: '60', status: 'final', asOf: null }
  }
  // expected(2022) = 50 + 50 * 2/5 = 70; made 10 < 0.6 * 20 = 12: off-track; attainment 10/50 = 0.2
  t.match(assessTarget(plan, base), { status: 'off-track', expected: '70', attainment: '0.2', baselineYear: 2020 })
  // made 12 >= 12 exactly: at-risk (the threshold is inclusive and exact)
  t.match(assessTarget(plan, { ...base, actual: { ...base.actual!, value: '62' } }), { status: 'at-risk', attainment: '0.24' })
  // exactly: 100 = 100.000 compared as decimals: achieved
  t.match(assessTarget(plan, { ...base, comparator: 'exactly', actual: { ...base.actual!, value: '100.000' } }), { status: 'achieved', attainment: '1' })
  // a target of 0 (清零, at-most 0) on a decrease indicator with no baseline: target / actual = 0 / 5 = 0: off-track
  t.match(assessTarget(plan, { ...base, value: '0', comparator: 'at-most', direction: 'decrease', baselineValue: null, actual: { ...base.actual!, value: '5' } }), { status: 'off-track', attainment: '0' })
  // ... and actual 0 meets it: 0 / 0 counts as 1
  t.match(assessTarget(plan, { ...base, value: '0', comparator: 'at-most', direction: 'decrease', baselineValue: null, actual: { ...base.actual!, value: '0' } }), { status: 'achieved', attainment: '1' })
  // baseline already beyond an at-least target (keep >= 95, baseline 98) and the actual fell to 94: off-track
  t.match(assessTarget(plan, { ...base, value: '95', baselineValue: '98', actual: { ...base.actual!, value: '94' } }), { status: 'off-track' })
  // an actual after the target year: the trajectory is clamped at the target (expected = 100)
  t.match(assessTarget(plan, { ...base, actual: { ...base.actual!, year: 2026, value: '95' } }), { expected: '100', attainment: '0.9', status: 'at-risk' })
})
