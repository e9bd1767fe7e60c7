import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { build, call, createIndicator, createPlan, createRegions, json } from './helper.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

type Row = Record<string, any>

async function setup (app: FastifyInstance) {
  await createRegions(app)
  await createIndicator(app) // hardship-subsidy-coverage, percent 0..100
  await createIndicator(app, { code: 'hardship-subsidy-recipients', name: '困难残疾人生活补贴人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
  await createIndicator(app, { code: 'hardship-subsidy-amount', name: '困难残疾人生活补贴金额', unit: 'cny-10k', aggregation: 'sum', min: 0, max: null })
  await createPlan(app, { id: 'huangyan-14th' })
  await createPlan(app, { id: 'taizhou-14th', regionCode: '331000', title: '台州市残疾人事业发展“十四五”规划' })
}

const actual = (overrides: Row = {}) => ({ kind: 'actual', regionCode: '330683', indicatorCode: 'hardship-subsidy-recipients', year: 2021, value: 3491, ...overrides })
const target = (overrides: Row = {}) => ({ kind: 'target', planId: 'huangyan-14th', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2025, value: '100', ...overrides })

async function post (app: FastifyInstance, body: Row): Promise<Row> {
  const res = await call(app, 'POST', '/v1/values', body)
  if (res.statusCode !== 201) throw new Error(`value: ${res.statusCode} ${res.body}`)
  return json(res)
}

const app = await build(t)
await setup(app)

t.test('POST an actual: 201 with Location, ETag and the stored value', async (t) => {
  const res = await call(app, 'POST', '/v1/values', actual({ asOf: '2021-09-30', source: 'shengzhou-dpf-2021-summary (二)', note: '惠及3491人' }))
  t.equal(res.statusCode, 201)
  t.equal(res.headers['content-type'], JSON_TYPE)
  t.equal(res.headers.etag, '"1"')
  const value = json(res)
  t.equal(res.headers.location, `/v1/values/${value.id as number}`)
  t.match(value, {
    id: Number,
    kind: 'actual',
    planId: null,
    regionCode: '330683',
    indicatorCode: 'hardship-subsidy-recipients',
    fromYear: 2021,
    year: 2021,
    breakdown: null,
    value: '3491',
    status: 'final',
    numerator: null,
    denominator: null,
    asOf: '2021-09-30',
    comparator: null,
    binding: null,
    baselineYear: null,
    baselineValue: null,
    qualitative: null,
    source: 'shengzhou-dpf-2021-summary (二)',
    note: '惠及3491人',
    revision: 1
  })

  const got = await app.inject(res.headers.location as string)
  t.equal(got.statusCode, 200)
  t.equal(got.headers['content-type'], JSON_TYPE)
  t.equal(got.headers.etag, '"1"')
  t.same(json(got), value)
  const notModified = await app.inject({ url: res.headers.location as string, headers: { 'if-none-match': '"1"' } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
})

t.test('POST a target: 201 with defaults for comparator and binding', async (t) => {
  const res = await call(app, 'POST', '/v1/values', target({ baselineYear: 2020, baselineValue: 98.5 }))
  t.equal(res.statusCode, 201)
  t.equal(res.headers.etag, '"1"')
  const value = json(res)
  t.equal(res.headers.location, `/v1/values/${value.id as number}`)
  t.match(value, {
    kind: 'target', planId: 'huangyan-14th', regionCode: '331003', fromYear: 2025, year: 2025, value: '100',
    comparator: 'at-least', binding: 'expected', baselineYear: 2020, baselineValue: '98.5', status: null, asOf: null
  })
  const stated = await post(app, target({ planId: 'taizhou-14th', comparator: 'at-most', binding: 'binding', value: 5 }))
  t.match(stated, { comparator: 'at-most', binding: 'binding', value: '5' })
  const words = await post(app, target({ year: 2024, value: null, qualitative: '与全区GDP增长同步' }))
  t.match(words, { value: null, qualitative: '与全区GDP增长同步', comparator: null })
  const wordsWithComparator = await post(app, target({ year: 2021, value: null, qualitative: '各单位1名以上', comparator: 'at-least' }))
  t.match(wordsWithComparator, { value: null, comparator: 'at-least' }, 'a stated comparator is kept')
})

t.test('GET and DELETE: 404 VALUE_NOT_FOUND, 400 for a bad id', async (t) => {
  const missing = await app.inject('/v1/values/999999')
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['content-type'], PROBLEM)
  t.match(json(missing), { status: 404, code: 'VALUE_NOT_FOUND', instance: '/v1/values/999999' })
  for (const id of ['abc', '0', '1.5']) {
    const res = await app.inject(`/v1/values/${id}`)
    t.equal(res.statusCode, 400, id)
    t.equal(json(res).code, 'VALIDATION_FAILED', id)
  }

  const value = await post(app, actual({ year: 2019 }))
  const stale = await app.inject({ method: 'DELETE', url: `/v1/values/${value.id as number}`, headers: { 'if-match': '"2"' } })
  t.equal(stale.statusCode, 412)
  t.equal(json(stale).code, 'PRECONDITION_FAILED')
  t.equal((await app.inject(`/v1/values/${value.id as number}`)).statusCode, 200)

  const deleted = await app.inject({ method: 'DELETE', url: `/v1/values/${value.id as number}`, headers: { 'if-match': '"1"' } })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  const gone = await app.inject(`/v1/values/${value.id as number}`)
  t.equal(gone.statusCode, 404)
  t.equal(json(gone).code, 'VALUE_NOT_FOUND')
  const again = await app.inject({ method: 'DELETE', url: `/v1/values/${value.id as number}` })
  t.equal(again.statusCode, 404)
  t.equal(json(again).code, 'VALUE_NOT_FOUND')
  t.equal((await post(app, actual({ year: 2019 }))).revision, 1, 'the key is free again')
})

t.test('PATCH merges, bumps the revision and honours If-Match', async (t) => {
  const value = await post(app, actual({ year: 2020, asOf: '2020-09-30', source: '嵊州市残联2020年工作总结', note: '截止9月底', status: 'provisional' }))
  const url = `/v1/values/${value.id as number}`

  const res = await call(app, 'PATCH', url, { value: '3520', status: 'final', note: null }, { 'if-match': '"1"' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers.etag, '"2"')
  const patched = json(res)
  t.same(patched, { ...value, value: '3520', status: 'final', note: null, revision: 2, updatedAt: patched.updatedAt })
  t.same(json(await app.inject(url)), patched)

  const stale = await call(app, 'PATCH', url, { value: '1' }, { 'if-match': '"1"' })
  t.equal(stale.statusCode, 412)
  t.equal(stale.headers['content-type'], PROBLEM)
  t.equal(json(stale).code, 'PRECONDITION_FAILED')
  const weak = await call(app, 'PATCH', url, { value: '1' }, { 'if-match': 'W/"2"' })
  t.equal(weak.statusCode, 412, 'If-Match uses the strong comparison')
  const after = await app.inject(url)
  t.equal(after.headers.etag, '"2"')
  t.same(json(after), patched, 'nothing changed')
  t.equal((await app.inject({ url, headers: { 'if-none-match': '"1"' } })).statusCode, 200, 'the old ETag no longer matches')

  const merge = await app.inject({
    method: 'PATCH',
    url,
    headers: { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    payload: JSON.stringify({ asOf: null, source: '嵊州市残联2020年工作总结（终稿）' })
  })
  t.equal(merge.statusCode, 200)
  t.equal(merge.headers.etag, '"3"')
  t.match(json(merge), { asOf: null, source: '嵊州市残联2020年工作总结（终稿）', value: '3520', status: 'final', revision: 3 })

  const cases: Array<[string, unknown, number]> = [
    ['empty patch', {}, 400],
    ['kind cannot change', { kind: 'target' }, 422],
    ['unknown property', { colour: 'red' }, 400],
    ['value as a float with noise', { value: 0.1 + 0.2 }, 400],
    ['null value for an actual', { value: null }, 422],
    ['target-only field on an actual', { comparator: 'at-least' }, 422],
    ['fromYear after year', { fromYear: 2021 }, 422],
    ['value out of range', { value: -1 }, 422]
  ]
  for (const [name, body, status] of cases) {
    const bad = await call(app, 'PATCH', url, body)
    t.equal(bad.statusCode, status, name)
    t.equal(bad.headers['content-type'], PROBLEM, name)
  }
  t.equal(json(await app.inject(url)).revision, 3, 'no rejected PATCH changed the value')

  const missing = await call(app, 'PATCH', '/v1/values/999999', { value: 1 })
  t.equal(missing.statusCode, 404)
  t.equal(json(missing).code, 'VALUE_NOT_FOUND')
})

t.test('PATCH can move a value; a move onto another key is 409', async (t) => {
  const a = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', regionCode: '331003', year: 2021, value: '789.55' }))
  const b = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', regionCode: '331004', year: 2021, value: '120' }))

  const moved = await call(app, 'PATCH', `/v1/values/${a.id as number}`, { regionCode: '331000' })
  t.equal(moved.statusCode, 200)
  t.match(json(moved), { id: a.id, regionCode: '331000', value: '789.55', revision: 2 })
  t.equal(json(await app.inject('/v1/values?region=331000&indicator=hardship-subsidy-amount')).items[0].id, a.id)

  const collide = await call(app, 'PATCH', `/v1/values/${a.id as number}`, { regionCode: '331004' })
  t.equal(collide.statusCode, 409)
  t.equal(collide.headers['content-type'], PROBLEM)
  t.equal(json(collide).code, 'VALUE_EXISTS')
  t.match(json(await app.inject(`/v1/values/${a.id as number}`)), { regionCode: '331000', revision: 2 })
  t.match(json(await app.inject(`/v1/values/${b.id as number}`)), { regionCode: '331004', revision: 1 })

  // A single-year value moved to another year stays single-year; a period keeps its start.
  const year = json(await call(app, 'PATCH', `/v1/values/${a.id as number}`, { year: 2022 }))
  t.match(year, { fromYear: 2022, year: 2022 })
  const period = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', regionCode: '331003', fromYear: 2016, year: 2020, value: 3000 }))
  t.match(json(await call(app, 'PATCH', `/v1/values/${period.id as number}`, { year: 2019 })), { fromYear: 2016, year: 2019 })

  // A target cannot leave its plan.
  const goal = await post(app, target({ indicatorCode: 'hardship-subsidy-amount', value: 900, year: 2023 }))
  const outside = await call(app, 'PATCH', `/v1/values/${goal.id as number}`, { regionCode: '331004' })
  t.equal(outside.statusCode, 422)
  t.equal(json(outside).code, 'TARGET_OUTSIDE_PLAN')
  const toOtherPlan = await call(app, 'PATCH', `/v1/values/${goal.id as number}`, { planId: 'taizhou-14th', regionCode: '331004' })
  t.equal(toOtherPlan.statusCode, 200)
  t.match(json(toOtherPlan), { planId: 'taizhou-14th', regionCode: '331004', revision: 2 })
})

t.test('409 VALUE_EXISTS only for the same key', async (t) => {
  const base = actual({ indicatorCode: 'hardship-subsidy-recipients', regionCode: '331004', year: 2022, value: 800 })
  const first = await post(app, base)
  const dup = await call(app, 'POST', '/v1/values', { ...base, value: 801, status: 'provisional' })
  t.equal(dup.statusCode, 409)
  t.equal(dup.headers['content-type'], PROBLEM)
  t.match(json(dup), { status: 409, code: 'VALUE_EXISTS' })
  t.equal(json(await call(app, 'POST', '/v1/values', { ...base, breakdown: {} })).code, 'VALUE_EXISTS', '{} is the total')
  t.equal(json(await call(app, 'POST', '/v1/values', { ...base, fromYear: 2022 })).code, 'VALUE_EXISTS', 'fromYear defaults to year')

  const others = [
    { ...base, breakdown: { category: 'mental' } },
    { ...base, breakdown: { category: 'mental', sex: 'female' } },
    { ...base, fromYear: 2021 },
    { ...base, year: 2023 },
    { ...target({ indicatorCode: 'hardship-subsidy-recipients', regionCode: '331004', year: 2022, planId: 'taizhou-14th', value: 800 }) }
  ]
  for (const body of others) {
    const res = await call(app, 'POST', '/v1/values', body)
    t.equal(res.statusCode, 201, JSON.stringify(body))
  }
  t.equal(json(await app.inject(`/v1/values/${first.id as number}`)).value, '800')

  // An actual and targets of two plans for the same region, indicator and year coexist.
  const key = { regionCode: '331003', indicatorCode: 'hardship-subsidy-recipients', year: 2024, value: 5000 }
  await post(app, { kind: 'actual', ...key })
  await post(app, { kind: 'target', planId: 'huangyan-14th', ...key })
  await post(app, { kind: 'target', planId: 'taizhou-14th', ...key })
  const dupTarget = await call(app, 'POST', '/v1/values', { kind: 'target', planId: 'taizhou-14th', ...key, value: 5100 })
  t.equal(dupTarget.statusCode, 409)
  t.equal(json(dupTarget).code, 'VALUE_EXISTS')
  const listed = json(await app.inject('/v1/values?region=331003&indicator=hardship-subsidy-recipients&from=2024&to=2024'))
  t.same(listed.items.map((v: Row) => [v.kind, v.planId]), [['actual', null], ['target', 'huangyan-14th'], ['target', 'taizhou-14th']])
})

t.test('decimals are stored exactly and never coerced', async (t) => {
  const asNumber = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', year: 2021, value: 789.55 }))
  t.equal(asNumber.value, '789.55')
  const asString = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', year: 2022, value: '789.55' }))
  t.equal(asString.value, '789.55')
  const big = await post(app, actual({ indicatorCode: 'hardship-subsidy-amount', year: 2023, value: '123456789012345.123456' }))
  t.equal(big.value, '123456789012345.123456')
  for (const v of [asNumber, asString, big]) {
    t.equal(json(await app.inject(`/v1/values/${v.id as number}`)).value, v.value, 'GET answers the same string')
  }
  t.equal((await post(app, target({ value: 0, year: 2023 }))).value, '0', 'min boundary')
  t.equal((await post(app, target({ value: 100, year: 2022 }))).value, '100', 'max boundary')

  const cases: Array<[string, unknown, number]> = [
    ['exponent string', '1e3', 400],
    ['tiny float', 1e-7, 400],
    ['huge float', 1e21, 400],
    ['float with binary noise', 0.1 + 0.2, 400],
    ['boolean', true, 400],
    ['array', [1], 400],
    ['string with spaces', ' 12', 400],
    ['too many fraction digits', '1.1234567', 400],
    ['leading zero', '012', 400],
    ['null for an actual', null, 422]
  ]
  for (const [name, value, status] of cases) {
    const res = await call(app, 'POST', '/v1/values', actual({ indicatorCode: 'hardship-subsidy-amount', year: 2024, value }))
    t.equal(res.statusCode, status, name)
    t.equal(res.headers['content-type'], PROBLEM, name)
    t.ok(json(res).errors.some((e: Row) => e.field === '/body/value'), `${name}: names /body/value`)
  }
  const { value: _v, ...valueless } = actual({ indicatorCode: 'hardship-subsidy-amount', year: 2024 })
  t.equal((await call(app, 'POST', '/v1/values', valueless)).statusCode, 422, 'an actual needs a value')
  const yearText = await call(app, 'POST', '/v1/values', actual({ indicatorCode: 'hardship-subsidy-amount', year: '2024' }))
  t.equal(yearText.statusCode, 400, 'year "2024" is not coerced')
  t.same(json(await app.inject('/v1/values?indicator=hardship-subsidy-amount&from=2024&to=2024')).items, [], 'nothing stored')
})

t.test('422 for values that break the rules', async (t) => {
  const cases: Array<[string, Row, string, string]> = [
    ['above the max', actual({ indicatorCode: 'hardship-subsidy-coverage', value: '100.01' }), 'VALUE_OUT_OF_RANGE', '/body/value'],
    ['below the min', actual({ value: -3 }), 'VALUE_OUT_OF_RANGE', '/body/value'],
    ['target above the max', target({ value: 101 }), 'VALUE_OUT_OF_RANGE', '/body/value'],
    ['fromYear after year', actual({ fromYear: 2022, year: 2021 }), 'INVALID_VALUE', '/body/fromYear'],
    ['comparator on an actual', actual({ comparator: 'at-least' }), 'INVALID_VALUE', '/body/comparator'],
    ['binding on an actual', actual({ binding: 'binding' }), 'INVALID_VALUE', '/body/binding'],
    ['baseline on an actual', actual({ baselineYear: 2020, baselineValue: 3000 }), 'INVALID_VALUE', '/body/baselineYear'],
    ['qualitative on an actual', actual({ qualitative: '稳步增长' }), 'INVALID_VALUE', '/body/qualitative'],
    ['planId on an actual', actual({ planId: 'huangyan-14th' }), 'INVALID_VALUE', '/body/planId'],
    ['status on a target', target({ status: 'final' }), 'INVALID_VALUE', '/body/status'],
    ['asOf on a target', target({ asOf: '2025-06-30' }), 'INVALID_VALUE', '/body/asOf'],
    ['target without a plan', target({ planId: undefined }), 'INVALID_VALUE', '/body/planId'],
    ['target without value or words', target({ value: null }), 'INVALID_VALUE', '/body/value'],
    ['zero denominator', actual({ indicatorCode: 'hardship-subsidy-coverage', value: 100, numerator: 0, denominator: 0 }), 'INVALID_VALUE', '/body/denominator'],
    ['unknown indicator', actual({ indicatorCode: 'no-such-indicator' }), 'REFERENCE_NOT_FOUND', '/body/indicatorCode'],
    ['unknown region', actual({ regionCode: '330699' }), 'REFERENCE_NOT_FOUND', '/body/regionCode'],
    ['unknown plan', target({ planId: 'no-such-plan' }), 'REFERENCE_NOT_FOUND', '/body/planId'],
    ['target outside the plan region', target({ regionCode: '331004' }), 'TARGET_OUTSIDE_PLAN', '/body/regionCode'],
    ['target outside the plan years', target({ year: 2026 }), 'TARGET_OUTSIDE_PLAN', '/body/year']
  ]
  for (const [name, body, code, field] of cases) {
    const res = await call(app, 'POST', '/v1/values', { ...body, year: body.year ?? 2021, note: 'rejected' })
    t.equal(res.statusCode, 422, name)
    t.equal(res.headers['content-type'], PROBLEM, name)
    t.equal(json(res).code, code, name)
    t.ok(json(res).errors.some((e: Row) => e.field === field), `${name}: names ${field}`)
  }
  for (const [name, body] of [['unknown property', actual({ colour: 'red' })], ['kind missing', { ...actual(), kind: undefined }], ['bad breakdown', actual({ breakdown: { category: 'blue' } })]] as const) {
    const res = await call(app, 'POST', '/v1/values', body)
    t.equal(res.statusCode, 400, name)
    t.equal(json(res).code, 'VALIDATION_FAILED', name)
  }
})

t.test('lists: filters, breakdowns and pages', async (t) => {
  const app = await build(t)
  await setup(app)
  const ids: Record<string, number> = {}
  const add = async (name: string, body: Row) => { ids[name] = (await post(app, { ...body, note: name })).id }
  const r = 'hardship-subsidy-recipients'
  await add('a1', actual({ regionCode: '331003', year: 2021 }))
  await add('a2', actual({ regionCode: '331003', year: 2022, status: 'provisional' }))
  await add('a3', actual({ regionCode: '331004', year: 2021 }))
  await add('a4', actual({ regionCode: '331000', year: 2021 }))
  await add('a5', actual({ regionCode: '330000', year: 2021, status: 'estimated' }))
  await add('a6', actual({ regionCode: '330683001', year: 2021 }))
  await add('a7', actual({ regionCode: '429004', year: 2021 }))
  await add('a8', actual({ regionCode: '331003', fromYear: 2016, year: 2020 }))
  await add('a9', actual({ regionCode: '331003', year: 2021, breakdown: { category: 'mental', sex: 'female' } }))
  await add('a10', actual({ regionCode: '331003', year: 2021, breakdown: { category: 'mental' } }))
  await add('a11', actual({ regionCode: '331003', year: 2021, breakdown: { sex: 'female' } }))
  await add('a12', actual({ regionCode: '331003', year: 2021, indicatorCode: 'hardship-subsidy-coverage', value: 100 }))
  await add('t1', target({ regionCode: '331003', indicatorCode: r, year: 2025, value: 5820 }))
  await add('t2', target({ regionCode: '331003', indicatorCode: r, fromYear: 2021, year: 2025, value: 27000 }))
  await add('t3', target({ planId: 'taizhou-14th', regionCode: '331003', indicatorCode: r, year: 2025, value: 5900 }))
  await add('t4', target({ planId: 'taizhou-14th', regionCode: '331004', year: 2025 }))

  const names = async (query: string) => {
    const res = await app.inject(`/v1/values${query}`)
    t.equal(res.statusCode, 200, query)
    t.equal(res.headers['content-type'], JSON_TYPE, query)
    const page = json(res)
    t.equal(page.nextCursor, null, `${query}: one page`)
    return (page.items as Row[]).map((v) => v.note as string).sort()
  }
  const totals = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a12', 't1', 't2', 't3', 't4'].sort()
  t.same(await names(''), totals, 'totals only by default')
  t.same(await names('?breakdown=total'), totals)
  t.same(await names('?region=331003'), ['a1', 'a12', 'a2', 'a8', 't1', 't2', 't3'])
  t.same(await names('?region=330000'), ['a5'])
  t.same(await names('?region=330000&includeDescendants=true'), totals.filter((n) => n !== 'a7'), 'a county and a township appear under their province')
  t.same(await names('?region=331000&includeDescendants=true'), ['a1', 'a12', 'a2', 'a3', 'a4', 'a8', 't1', 't2', 't3', 't4'])
  t.same(await names('?region=331000&includeDescendants=false'), ['a4'])
  t.same(await names('?indicator=hardship-subsidy-coverage'), ['a12', 't4'])
  t.same(await names('?kind=target'), ['t1', 't2', 't3', 't4'])
  t.same(await names('?kind=actual&region=331003'), ['a1', 'a12', 'a2', 'a8'])
  t.same(await names('?plan=taizhou-14th'), ['t3', 't4'])
  t.same(await names('?from=2021&to=2021'), ['a1', 'a12', 'a3', 'a4', 'a5', 'a6', 'a7'], 'the whole period lies within from..to')
  t.same(await names('?to=2020'), ['a8'])
  t.same(await names('?from=2016&to=2020'), ['a8'])
  t.same(await names('?from=2022'), ['a2', 't1', 't3', 't4'])
  t.same(await names('?from=2021&to=2025&kind=target&region=331003'), ['t1', 't2', 't3'])
  t.same(await names('?status=provisional'), ['a2'])
  t.same(await names('?status=estimated'), ['a5'])
  t.same(await names('?breakdown=category:mental,sex:female'), ['a9'], 'exactly that breakdown')
  t.same(await names('?breakdown=sex:female,category:mental'), ['a9'], 'in any order')
  t.same(await names('?breakdown=category:mental'), ['a10'])
  t.same(await names('?breakdown=sex:female'), ['a11'])
  t.same(await names('?breakdown=*'), Object.keys(ids).sort())
  t.same(await names('?breakdown=*&region=331003&from=2021&to=2021&kind=actual&indicator=hardship-subsidy-recipients'), ['a1', 'a10', 'a11', 'a9'])

  const bad = [
    'breakdown=colour:red', 'breakdown=category:purple', 'breakdown=category:mental,category:visual', 'breakdown=grade:5',
    'kind=forecast', 'status=draft', 'from=abc', 'region=3310', 'limit=0', 'limit=1001', 'includeDescendants=maybe', 'colour=red'
  ]
  for (const query of bad) {
    const res: LightMyRequestResponse = await app.inject(`/v1/values?${query}`)
    t.equal(res.statusCode, 400, query)
    t.equal(res.headers['content-type'], PROBLEM, query)
    t.equal(json(res).code, 'VALIDATION_FAILED', query)
  }

  // Pages: ordered by year, then id; every value exactly once.
  const all = json(await app.inject('/v1/values?breakdown=*&limit=1000')).items as Row[]
  t.equal(all.length, 16)
  for (let i = 1; i < all.length; i++) {
    const [p, c] = [all[i - 1]!, all[i]!]
    t.ok(p.year < c.year || (p.year === c.year && p.id < c.id), `${p.note as string} before ${c.note as string}`)
  }
  t.same(all.slice(0, 2).map((v) => v.note), ['a8', 'a1'], '2020 first, then 2021 by id')
  const seen: Row[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: LightMyRequestResponse = await app.inject(`/v1/values?breakdown=*&limit=5${cursor !== null ? `&cursor=${cursor}` : ''}`)
    t.equal(res.statusCode, 200)
    const page = json<{ items: Row[], nextCursor: string | null }>(res)
    t.ok(page.items.length <= 5)
    seen.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor !== null)
  t.equal(pages, 4)
  t.same(seen, all)

  const first = json(await app.inject('/v1/values?region=331003&limit=2'))
  t.same(first.items.map((v: Row) => v.note), ['a8', 'a1'])
  const second = json(await app.inject(`/v1/values?region=331003&limit=2&cursor=${first.nextCursor as string}`))
  t.same(second.items.map((v: Row) => v.note), ['a12', 'a2'], 'the cursor keeps the filters\' order')

  const planCursor = Buffer.from(JSON.stringify(['huangyan-14th'])).toString('base64url')
  for (const c of ['garbage', planCursor, Buffer.from('[2021]').toString('base64url')]) {
    const res: LightMyRequestResponse = await app.inject(`/v1/values?cursor=${c}`)
    t.equal(res.statusCode, 400, c)
    t.equal(json(res).code, 'INVALID_CURSOR', c)
  }
})

t.test('timestamps read alike on every path: ISO 8601 in UTC, milliseconds truncated', async (t) => {
  const created = await post(app, actual({ regionCode: '331003', year: 2019 }))
  // Microseconds that must not round up to the next millisecond (or second).
  // (A write bumps the revision, as the service's own writes do: history is kept per revision.)
  await app.db.execute(sql`update yearly_values set revision = revision + 1, created_at = '2026-01-05 08:00:00.999600+00', updated_at = '2026-01-05 08:00:01.000400+00' where id = ${created.id as number}`)
  const expected = { createdAt: '2026-01-05T08:00:00.999Z', updatedAt: '2026-01-05T08:00:01.000Z' }
  const pick = (r: Row) => ({ createdAt: r.createdAt, updatedAt: r.updatedAt })
  // The hot reads (prepared statements, timestamps formatted by the database)...
  t.same(pick(json(await call(app, 'GET', `/v1/values/${created.id as number}`))), expected, 'GET /v1/values/{id}')
  const listed = json(await call(app, 'GET', '/v1/values?region=331003&indicator=hardship-subsidy-recipients&from=2019&to=2019')).items as Row[]
  t.same(listed.map(pick), [expected], 'GET /v1/values')
  // ...and a read through drizzle (Dates): the PATCH answer keeps createdAt as stored.
  const patchRes = await call(app, 'PATCH', `/v1/values/${created.id as number}`, { note: 'checked' })
  t.equal(patchRes.statusCode, 200, patchRes.body)
  const patched = json(patchRes)
  t.equal(patched.createdAt, expected.createdAt, 'PATCH answer (read through drizzle)')
  t.match(patched.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  const history = json(await call(app, 'GET', `/v1/values/${created.id as number}/history`)).items as Row[]
  t.equal(history.at(-1)!.after.createdAt, expected.createdAt, 'history: the current state (prepared read)')
  t.equal(history.at(-1)!.before.createdAt, expected.createdAt, 'history: the snapshot before it')
})
