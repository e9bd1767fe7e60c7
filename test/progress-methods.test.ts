import t from 'tap'
import { build, call, createIndicator, createPlan, createRegions, json } from './helper.ts'

// The three progress methods against figures computed by hand, and flow targets summed over
// their period. Every expected number below is worked out in the comment above it.
type Row = Record<string, any>
const app = await build(t)
await createRegions(app)
await createIndicator(app, { code: 'cov', unit: 'percent', aggregation: 'ratio', min: 0, max: 100 })
await createIndicator(app, { code: 'jobs', unit: 'persons', nature: 'flow', min: 0, max: null })
await createIndicator(app, { code: 'poor', unit: 'households', direction: 'decrease', min: 0, max: null })
await createIndicator(app, { code: 'beds', unit: 'beds', min: 0, max: null })
await createIndicator(app, { code: 'events', unit: 'events', min: 0, max: null })
await createIndicator(app, { code: 'net', unit: 'persons', min: null, max: null })
await createPlan(app, { id: 'methods', regionCode: '331003', startYear: 2021, endYear: 2025, baselineYear: 2020 })

const targets = [
  { indicatorCode: 'cov', year: 2025, value: '100', comparator: 'at-least', baselineYear: 2020, baselineValue: '90' },
  { indicatorCode: 'cov', year: 2025, value: '100', comparator: 'at-least', breakdown: { area: 'rural' } },
  { indicatorCode: 'jobs', fromYear: 2021, year: 2025, value: '1000', comparator: 'at-least' },
  { indicatorCode: 'poor', year: 2025, value: '100', comparator: 'at-most', baselineYear: 2020, baselineValue: '500' },
  { indicatorCode: 'beds', year: 2025, value: '200', comparator: 'at-least' },
  { indicatorCode: 'events', year: 2025, value: '10', comparator: 'at-least', baselineYear: 2020, baselineValue: '0' },
  { indicatorCode: 'net', year: 2025, value: '5', comparator: 'at-least', baselineYear: 2020, baselineValue: '-10' }
].map((x) => ({ regionCode: '331003', ...x }))
const put = await call(app, 'PUT', '/v1/plans/methods/targets', { targets })
if (put.statusCode !== 200) throw new Error(put.body)

const actual = async (indicatorCode: string, year: number, value: string, extra: Row = {}) => {
  const res = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode, year, value, ...extra })
  if (res.statusCode !== 201) throw new Error(res.body)
}
await actual('cov', 2021, '92.5')
await actual('cov', 2023, '96')
await actual('cov', 2021, '95', { breakdown: { area: 'rural' } })
await actual('cov', 2023, '93', { breakdown: { area: 'rural' } })
await actual('jobs', 2020, '300') // before the period: neither summed nor progress
await actual('jobs', 2021, '200')
await actual('jobs', 2022, '150', { status: 'provisional' })
await actual('jobs', 2023, '250')
await actual('poor', 2023, '300')
await actual('beds', 2021, '100')
await actual('beds', 2023, '150')
await actual('events', 2023, '3')
await actual('net', 2023, '-1')

async function progress (method: string) {
  const res = await app.inject(`/v1/plans/methods/progress?asOf=2023&method=${method}`)
  t.equal(res.statusCode, 200, res.body)
  const body = json(res)
  return { body, item: (code: string, breakdown: Row | null = null) => body.items.find((i: Row) => i.indicatorCode === code && JSON.stringify(i.breakdown) === JSON.stringify(breakdown)) }
}

t.test('a flow target summed over its period, linear', async (t) => {
  const { body, item } = await progress('linear')
  t.equal(body.method.name, 'linear')
  t.equal(body.method.trend, null)
  // jobs 2021-2025 >= 1000: the yearly actuals 2021-2023 sum to 200 + 150 + 250 = 600 (2020 is
  // before the period); 3 of 5 years: periodElapsed 0.6, expected = 1000 * 0.6 = 600;
  // 600 meets it: on-track; attainment = 600 / 1000 = 0.6; one of them provisional.
  t.match(item('jobs'), {
    nature: 'flow', actual: null, provisional: true, expected: '600', attainment: '0.6', status: 'on-track', trend: null,
    cumulative: { value: '600', fromYear: 2021, toYear: 2023, periodElapsed: '0.6', periodYears: 5 }
  })
  t.equal(item('jobs').cumulative.actualIds.length, 3)
})

t.test('projection: the recent pace extended to the target year', async (t) => {
  const { body, item } = await progress('projection')
  t.equal(body.method.name, 'projection')
  t.match(body.method.trend, { source: /Destatis/, thresholds: { onTrackBelow: '0.05', atRiskUpTo: '0.2' }, points: { min: 2, max: 6 } })
  // cov: points 2021 92.5, 2023 96: change (96 - 92.5) / 2 = 1.75 a year; projected 2025 =
  // 96 + 1.75 * 2 = 99.5; gap 100 - 96 = 4, miss 100 - 99.5 = 0.5 = 12.5% of it: at-risk.
  t.match(item('cov'), { status: 'at-risk', attainment: '0.6', trend: { projected: '99.5', averageAnnualChange: '1.75', points: [{ year: 2021, value: '92.5' }, { year: 2023, value: '96' }] } })
  // cov rural: 95 -> 93, -1 a year: moving away from an at-least target: off-track.
  t.match(item('cov', { area: 'rural' }), { status: 'off-track', trend: { averageAnnualChange: '-1', reason: /moves away/ } })
  // jobs (flow): the yearly amounts average (200 + 150 + 250) / 3 = 200; projected total =
  // 600 + 200 * (2025 - 2023) = 1000: no miss: on-track.
  t.match(item('jobs'), { status: 'on-track', trend: { projected: '1000', averageAnnualChange: '200' } })
  // poor: a single actual (2023): too few points.
  t.match(item('poor'), { status: 'not-assessable', trend: { points: [{ year: 2023 }], reason: /at least 2 actuals; 1 is known/ } })
  // beds, no baseline: 100 (2021) -> 150 (2023): 25 a year; projected 150 + 50 = 200: on-track.
  t.match(item('beds'), { status: 'on-track', trend: { projected: '200', averageAnnualChange: '25' } })
})

t.test('growth-ratio: observed over required compound annual growth', async (t) => {
  const { body, item } = await progress('growth-ratio')
  t.match(body.method.trend, { source: /Eurostat/, thresholds: { onTrackFrom: '0.95', atRiskFrom: '0.6' } })
  // cov: base 90 (2020), latest 96 (2023), target 100 (2025):
  // observed (96/90)^(1/3) - 1 = 0.021746; required (100/90)^(1/5) - 1 = 0.021296; ratio 1.021141 >= 0.95: on-track.
  t.match(item('cov'), { status: 'on-track', trend: { growthBase: { year: 2020, value: '90' }, observedGrowth: '0.021746', requiredGrowth: '0.021296', growthRatio: '1.021141' } })
  // poor (decrease, at-most 100): base 500 (2020), latest 300 (2023):
  // observed (300/500)^(1/3) - 1 = -0.156567; required (100/500)^(1/5) - 1 = -0.27522; ratio 0.56888 < 0.6: off-track.
  t.match(item('poor'), { status: 'off-track', trend: { observedGrowth: '-0.156567', requiredGrowth: '-0.27522', growthRatio: '0.56888' } })
  // beds, no baseline: base = the earliest point, 100 (2021); latest 150 (2023), target 200 (2025):
  // observed (150/100)^(1/2) - 1 = 0.224745; required (200/100)^(1/4) - 1 = 0.189207; ratio 1.187825: on-track.
  t.match(item('beds'), { status: 'on-track', trend: { growthBase: { year: 2021, value: '100' }, growthRatio: '1.187825' } })
  // events: base 0: compound growth is undefined; absolute: observed (3 - 0) / 3 = 1, required (10 - 0) / 5 = 2; ratio 0.5: off-track.
  t.match(item('events'), { status: 'off-track', trend: { observedGrowth: '1', requiredGrowth: '2', growthRatio: '0.5' } })
  // net: a sign change (-10 -> -1 -> 5): absolute: observed 9 / 3 = 3, required 15 / 5 = 3; ratio 1: on-track.
  t.match(item('net'), { status: 'on-track', trend: { observedGrowth: '3', requiredGrowth: '3', growthRatio: '1' } })
  // cov rural, no baseline: base 95 (2021), latest 93: observed negative, required positive: ratio < 0, moving away.
  t.match(item('cov', { area: 'rural' }), { status: 'off-track', trend: { reason: /moves away/ } })
  // jobs (flow): average 600 / 3 = 200 a year against 1000 / 5 = 200 required: ratio 1: on-track.
  t.match(item('jobs'), { status: 'on-track', trend: { observedGrowth: '200', requiredGrowth: '200', growthRatio: '1' } })
})

t.test('an achieved target stays achieved under every method; a bad method is 400', async (t) => {
  await actual('beds', 2024, '210')
  for (const method of ['linear', 'projection', 'growth-ratio']) {
    const body = json(await app.inject(`/v1/plans/methods/progress?asOf=2024&method=${method}`))
    t.match(body.items.find((i: Row) => i.indicatorCode === 'beds'), { status: 'achieved', trend: null }, method)
  }
  const bad = await app.inject('/v1/plans/methods/progress?method=weather')
  t.equal(bad.statusCode, 400)
})
