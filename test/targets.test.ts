import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { build, call, createIndicator, createPlan, createRegions, json } from './helper.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

const app = await build(t)
await createRegions(app)
await createIndicator(app) // hardship-subsidy-coverage, percent 0..100
await createIndicator(app, { code: 'hardship-subsidy-recipients', name: '困难残疾人生活补贴人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createIndicator(app, { code: 'employment-growth', name: '残疾人就业增长', unit: 'percent', aggregation: 'none', min: null, max: null })

type Row = Record<string, unknown>
const putTable = (planId: string, targets: unknown[]) => call(app, 'PUT', `/v1/plans/${planId}/targets`, { targets })
const getTable = async (planId: string) => {
  const res = await app.inject(`/v1/plans/${planId}/targets?limit=1000`)
  if (res.statusCode !== 200) throw new Error(`targets of ${planId}: ${res.statusCode} ${res.body}`)
  return json(res).items as Row[]
}

const coverage = { regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2025, value: 100, binding: 'binding', baselineYear: 2020, baselineValue: '100' }
const recipients2025 = { regionCode: '331003', indicatorCode: 'hardship-subsidy-recipients', year: 2025, value: '5820', source: '表1' }
const recipientsFiveYears = { ...recipients2025, fromYear: 2021, value: '27000' }
const recipientsMental = { ...recipients2025, breakdown: { category: 'mental' }, value: 1200 }
const qualitative = { regionCode: '331003', indicatorCode: 'employment-growth', year: 2025, value: null, qualitative: '与全区GDP增长同步' }
const fullTable = [coverage, recipients2025, recipientsFiveYears, recipientsMental, qualitative]

t.test('404 PLAN_NOT_FOUND for the targets of an unknown plan', async (t) => {
  for (const res of [await app.inject('/v1/plans/no-such-plan/targets'), await putTable('no-such-plan', [coverage])]) {
    t.equal(res.statusCode, 404)
    t.equal(res.headers['content-type'], PROBLEM)
    t.equal(json(res).code, 'PLAN_NOT_FOUND')
  }
})

t.test('replacing the table: created, then unchanged, updated, deleted', async (t) => {
  await createPlan(app, { id: 'replace-plan' })
  t.same(json(await app.inject('/v1/plans/replace-plan/targets')), { items: [], nextCursor: null })

  const first = await putTable('replace-plan', fullTable)
  t.equal(first.statusCode, 200)
  t.equal(first.headers['content-type'], JSON_TYPE)
  const created = json(first)
  t.match(created, { created: 5, updated: 0, unchanged: 0, deleted: 0 })
  t.equal(created.items.length, 5)
  for (const item of created.items) {
    t.match(item, { kind: 'target', planId: 'replace-plan', revision: 1, status: null, asOf: null, numerator: null, denominator: null })
  }
  const byValue = (items: Row[], value: string | null) => items.find((i) => i.value === value)!
  t.match(byValue(created.items, '100'), {
    indicatorCode: 'hardship-subsidy-coverage', fromYear: 2025, year: 2025, breakdown: null,
    comparator: 'at-least', binding: 'binding', baselineYear: 2020, baselineValue: '100'
  })
  t.match(byValue(created.items, '5820'), { fromYear: 2025, breakdown: null, comparator: 'at-least', binding: 'expected', source: '表1' })
  t.match(byValue(created.items, '27000'), { fromYear: 2021, year: 2025, breakdown: null }, 'multi-year target beside the single-year one')
  t.match(byValue(created.items, '1200'), { fromYear: 2025, breakdown: { category: 'mental' } }, 'breakdown row beside the total')
  t.match(byValue(created.items, null), { indicatorCode: 'employment-growth', qualitative: '与全区GDP增长同步', comparator: null, binding: 'expected' })

  const stored = await getTable('replace-plan')
  t.same(stored, created.items, 'GET answers what PUT answered')

  const second = await putTable('replace-plan', fullTable)
  t.equal(second.statusCode, 200)
  t.match(json(second), { created: 0, updated: 0, unchanged: 5, deleted: 0 })
  t.same(json(second).items, created.items, 'ids, revisions and timestamps kept')

  // The same values sent in another spelling are still unchanged.
  const respelled = [{ ...coverage, value: '100', comparator: 'at-least' }, { ...recipients2025, value: 5820, binding: 'expected' }, recipientsFiveYears, { ...recipientsMental, breakdown: { category: 'mental' } }, qualitative]
  t.match(json(await putTable('replace-plan', respelled)), { created: 0, updated: 0, unchanged: 5, deleted: 0 })

  const changed = [{ ...coverage, value: 98.5 }, recipients2025, recipientsFiveYears, recipientsMental]
  const third = await putTable('replace-plan', changed)
  t.equal(third.statusCode, 200)
  t.match(json(third), { created: 0, updated: 1, unchanged: 3, deleted: 1 })
  const items = json(third).items as Row[]
  t.equal(items.length, 4)
  const oldCoverage = byValue(created.items, '100')
  const newCoverage = items.find((i) => i.indicatorCode === 'hardship-subsidy-coverage')!
  t.equal(newCoverage.id, oldCoverage.id, 'updated in place')
  t.equal(newCoverage.revision, 2)
  t.equal(newCoverage.value, '98.5')
  const value = await app.inject(`/v1/values/${newCoverage.id as number}`)
  t.equal(value.headers.etag, '"2"')
  t.equal(json(value).value, '98.5')

  const gone = byValue(created.items, null)
  const deleted = await app.inject(`/v1/values/${gone.id as number}`)
  t.equal(deleted.statusCode, 404)
  t.equal(json(deleted).code, 'VALUE_NOT_FOUND')
  t.same(await getTable('replace-plan'), items)

  // A new key is a new row, and an empty table deletes everything.
  const added = json(await putTable('replace-plan', [...changed, { ...recipients2025, year: 2023, value: 5500 }]))
  t.match(added, { created: 1, updated: 0, unchanged: 4, deleted: 0 })
  t.same(added.items.map((i: Row) => i.year), [2023, 2025, 2025, 2025, 2025], 'ordered by year then id')
  t.match(json(await putTable('replace-plan', [])), { created: 0, updated: 0, unchanged: 0, deleted: 5, items: [] })
  t.same(await getTable('replace-plan'), [])
})

t.test('two rows with the same key: 422 DUPLICATE_KEY_IN_REQUEST, nothing changed', async (t) => {
  await createPlan(app, { id: 'duplicate-plan' })
  t.equal((await putTable('duplicate-plan', [coverage])).statusCode, 200)
  const before = await getTable('duplicate-plan')

  const res = await putTable('duplicate-plan', [recipients2025, coverage, { ...coverage, value: 99 }])
  t.equal(res.statusCode, 422)
  t.equal(res.headers['content-type'], PROBLEM)
  t.match(json(res), { code: 'DUPLICATE_KEY_IN_REQUEST', errors: [{ row: 3, field: '/body/targets/2' }] })
  t.equal(json(res).errors.length, 1)

  // No breakdown, null and {} all mean the total: the same key.
  const totals = await putTable('duplicate-plan', [{ ...recipients2025, breakdown: {} }, { ...recipients2025, breakdown: null }])
  t.equal(totals.statusCode, 422)
  t.match(json(totals), { code: 'DUPLICATE_KEY_IN_REQUEST', errors: [{ row: 2 }] })
  const explicitFromYear = await putTable('duplicate-plan', [recipients2025, { ...recipients2025, fromYear: 2025 }])
  t.equal(explicitFromYear.statusCode, 422, 'fromYear defaults to year')

  t.same(await getTable('duplicate-plan'), before)
})

t.test('one bad row among good ones: 422 naming the row, table unchanged', async (t) => {
  await createPlan(app, { id: 'atomic-plan' })
  await createPlan(app, { id: 'taizhou-plan', regionCode: '331000', title: '台州市残疾人事业发展“十四五”规划' })
  t.equal((await putTable('atomic-plan', [coverage, recipients2025])).statusCode, 200)
  const before = await getTable('atomic-plan')

  const cases: Array<[string, Row, string, string]> = [
    ['value above the max', { ...coverage, value: '100.5' }, 'VALUE_OUT_OF_RANGE', '/body/targets/1/value'],
    ['baselineValue below the min', { ...coverage, baselineValue: -1 }, 'VALUE_OUT_OF_RANGE', '/body/targets/1/baselineValue'],
    ['unknown indicator', { ...coverage, indicatorCode: 'no-such-indicator' }, 'REFERENCE_NOT_FOUND', '/body/targets/1/indicatorCode'],
    ['unknown region', { ...coverage, regionCode: '331099' }, 'REFERENCE_NOT_FOUND', '/body/targets/1/regionCode'],
    ['region outside the plan', { ...coverage, regionCode: '331004' }, 'TARGET_OUTSIDE_PLAN', '/body/targets/1/regionCode'],
    ['region above the plan', { ...coverage, regionCode: '331000' }, 'TARGET_OUTSIDE_PLAN', '/body/targets/1/regionCode'],
    ['year after the plan', { ...coverage, year: 2026 }, 'TARGET_OUTSIDE_PLAN', '/body/targets/1/year'],
    ['period starting before the plan', { ...coverage, fromYear: 2020 }, 'TARGET_OUTSIDE_PLAN', '/body/targets/1/year'],
    ['fromYear after year', { ...coverage, fromYear: 2025, year: 2024 }, 'INVALID_VALUE', '/body/targets/1/fromYear'],
    ['status on a target', { ...coverage, status: 'final' }, 'INVALID_VALUE', '/body/targets/1/status'],
    ['asOf on a target', { ...coverage, asOf: '2025-09-30' }, 'INVALID_VALUE', '/body/targets/1/asOf'],
    ['neither value nor qualitative', { ...coverage, value: null }, 'INVALID_VALUE', '/body/targets/1/value']
  ]
  for (const [name, bad, code, field] of cases) {
    const res = await putTable('atomic-plan', [{ ...recipients2025, value: 6000 }, bad, { ...recipients2025, year: 2024 }])
    t.equal(res.statusCode, 422, name)
    t.equal(res.headers['content-type'], PROBLEM, name)
    const problem = json(res)
    t.equal(problem.code, code, name)
    t.ok(problem.errors.length >= 1, name)
    t.ok(problem.errors.every((e: Row) => e.row === 2), `${name}: only row 2 is blamed`)
    t.ok(problem.errors.some((e: Row) => e.field === field), `${name}: ${field} is named`)
  }

  const several = await putTable('atomic-plan', [{ ...coverage, value: 101 }, recipients2025, { ...recipients2025, year: 2030 }])
  t.equal(several.statusCode, 422)
  t.same(json(several).errors.map((e: Row) => e.row).sort(), [1, 3], 'every bad row is listed')

  t.same(await getTable('atomic-plan'), before, 'nothing changed')

  // A plan's targets may lie in any region below the plan's region.
  const below = await putTable('taizhou-plan', [{ ...coverage, regionCode: '331000' }, { ...coverage, regionCode: '331004' }])
  t.equal(below.statusCode, 200)
  t.match(json(below), { created: 2 })
})

t.test('strict rows: 400 for unknown properties and values that are not decimals', async (t) => {
  await createPlan(app, { id: 'strict-targets' })
  const cases: Array<[string, unknown]> = [
    ['kind in a row', [{ ...coverage, kind: 'target' }]],
    ['planId in a row', [{ ...coverage, planId: 'strict-targets' }]],
    ['unknown property', [{ ...coverage, colour: 'red' }]],
    ['year as a string', [{ ...coverage, year: '2025' }]],
    ['value in exponent form', [{ ...coverage, value: '1e2' }]],
    ['value as a boolean', [{ ...coverage, value: true }]],
    ['unknown breakdown dimension', [{ ...recipients2025, breakdown: { colour: 'red' } }]],
    ['breakdown value outside the enum', [{ ...recipients2025, breakdown: { grade: 5 } }]]
  ]
  for (const [name, targets] of cases) {
    const res = await call(app, 'PUT', '/v1/plans/strict-targets/targets', { targets })
    t.equal(res.statusCode, 400, name)
    t.equal(json(res).code, 'VALIDATION_FAILED', name)
  }
  const float = await putTable('strict-targets', [{ ...coverage, value: 0.1 + 0.2 }])
  t.equal(float.statusCode, 400, 'a float that is not a short decimal is refused, not rounded')
  t.match(json(float).errors, [{ field: '/body/targets/0/value', code: 'decimal', row: 1 }])
  const bare = await call(app, 'PUT', '/v1/plans/strict-targets/targets', [coverage])
  t.equal(bare.statusCode, 400, 'the body is an object with targets, not a bare array')
  t.same(await getTable('strict-targets'), [])
})

t.test('a plan cannot move away from its targets', async (t) => {
  await createPlan(app, { id: 'moving-plan' })
  t.equal((await putTable('moving-plan', [coverage, { ...recipients2025, year: 2022 }])).statusCode, 200)
  for (const patch of [{ regionCode: '331004' }, { startYear: 2023 }, { endYear: 2024 }]) {
    const res = await call(app, 'PATCH', '/v1/plans/moving-plan', patch)
    t.equal(res.statusCode, 422, JSON.stringify(patch))
    t.equal(json(res).code, 'TARGET_OUTSIDE_PLAN')
  }
  t.equal(json(await app.inject('/v1/plans/moving-plan')).revision, 1)
  const wider = await call(app, 'PATCH', '/v1/plans/moving-plan', { regionCode: '331000', endYear: 2026 })
  t.equal(wider.statusCode, 200)
})

t.test('GET targets pages by year then id', async (t) => {
  await createPlan(app, { id: 'paged-plan' })
  const rows = [2025, 2021, 2023, 2022, 2024].flatMap((year) => [
    { ...recipients2025, year, value: year },
    { ...recipients2025, year, value: year, breakdown: { sex: 'female' } }
  ])
  t.match(json(await putTable('paged-plan', rows)), { created: 10 })
  const all = await getTable('paged-plan')
  t.same(all.map((r) => r.year), [2021, 2021, 2022, 2022, 2023, 2023, 2024, 2024, 2025, 2025])
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.year === all[i - 1]!.year) t.ok((all[i]!.id as number) > (all[i - 1]!.id as number), 'id breaks ties')
  }

  const seen: Row[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: LightMyRequestResponse = await app.inject(`/v1/plans/paged-plan/targets?limit=3${cursor !== null ? `&cursor=${cursor}` : ''}`)
    t.equal(res.statusCode, 200)
    const page = json<{ items: Row[], nextCursor: string | null }>(res)
    seen.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor !== null)
  t.equal(pages, 4)
  t.same(seen, all)

  const bad = await app.inject('/v1/plans/paged-plan/targets?cursor=bm90LWEtY3Vyc29y')
  t.equal(bad.statusCode, 400)
  t.equal(json(bad).code, 'INVALID_CURSOR')
  t.equal((await app.inject('/v1/plans/paged-plan/targets?limit=0')).statusCode, 400)
})
