import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { build, call, createIndicator, createPlan, createRegions, json, planBody } from './helper.ts'

const PROBLEM = 'application/problem+json; charset=utf-8'
const JSON_TYPE = 'application/json; charset=utf-8'

// One database for the file: every subtest works on plan ids of its own.
const app = await build(t)
await createRegions(app)
await createIndicator(app)

const ids = (res: LightMyRequestResponse) => json<{ items: Array<{ id: string }> }>(res).items.map((p) => p.id)

t.test('POST creates a plan: 201, Location, ETag and defaults', async (t) => {
  const res = await call(app, 'POST', '/v1/plans', planBody({ id: 'created-plan', issuer: '台州市黄岩区人民政府' }))
  t.equal(res.statusCode, 201)
  t.equal(res.headers['content-type'], JSON_TYPE)
  t.equal(res.headers.location, '/v1/plans/created-plan')
  t.equal(res.headers.etag, '"1"')
  const plan = json(res)
  t.match(plan, {
    id: 'created-plan',
    title: planBody().title,
    titleEn: null,
    kind: 'five-year-plan',
    regionCode: '331003',
    issuer: '台州市黄岩区人民政府',
    documentNumber: null,
    startYear: 2021,
    endYear: 2025,
    baselineYear: 2020,
    issuedOn: null,
    publishedOn: null,
    sourceUrl: null,
    status: 'in-force',
    parentPlanId: null,
    revision: 1
  })
  t.match(plan.createdAt, /^\d{4}-\d{2}-\d{2}T/)

  const got = await app.inject(res.headers.location as string)
  t.equal(got.statusCode, 200)
  t.equal(got.headers.etag, '"1"')
  t.same(json(got), plan)
})

t.test('GET an unknown plan is 404 PLAN_NOT_FOUND as problem+json', async (t) => {
  const res = await app.inject('/v1/plans/no-such-plan')
  t.equal(res.statusCode, 404)
  t.equal(res.headers['content-type'], PROBLEM)
  t.match(json(res), { status: 404, code: 'PLAN_NOT_FOUND', instance: '/v1/plans/no-such-plan', title: String, detail: String })
})

t.test('409 PLAN_EXISTS for a second POST of the same id', async (t) => {
  await createPlan(app, { id: 'twice-posted' })
  const res = await call(app, 'POST', '/v1/plans', planBody({ id: 'twice-posted', title: 'other' }))
  t.equal(res.statusCode, 409)
  t.equal(res.headers['content-type'], PROBLEM)
  t.equal(json(res).code, 'PLAN_EXISTS')
  t.equal(json(await app.inject('/v1/plans/twice-posted')).title, planBody().title)
})

t.test('409 DOCUMENT_NUMBER_TAKEN for a duplicate documentNumber', async (t) => {
  const documentNumber = '浙残联发〔2023〕1号'
  await createPlan(app, { id: 'zj-2023-work-plan', kind: 'annual-work-plan', regionCode: '330000', startYear: 2023, endYear: 2023, baselineYear: null, documentNumber })
  const body = planBody({ id: 'zj-2023-copy', kind: 'annual-work-plan', regionCode: '330000', startYear: 2023, endYear: 2023, baselineYear: null, documentNumber })
  const res = await call(app, 'POST', '/v1/plans', body)
  t.equal(res.statusCode, 409)
  t.equal(json(res).code, 'DOCUMENT_NUMBER_TAKEN')
  t.equal((await app.inject('/v1/plans/zj-2023-copy')).statusCode, 404)

  // Another plan cannot take it by PUT or PATCH either; the holder may keep it.
  const put = await call(app, 'PUT', '/v1/plans/zj-2023-copy', { ...body, id: undefined })
  t.equal(put.statusCode, 409)
  t.equal(json(put).code, 'DOCUMENT_NUMBER_TAKEN')
  await createPlan(app, { id: 'zj-2023-other', kind: 'annual-work-plan', regionCode: '330000', startYear: 2023, endYear: 2023, baselineYear: null })
  const patch = await call(app, 'PATCH', '/v1/plans/zj-2023-other', { documentNumber })
  t.equal(patch.statusCode, 409)
  t.equal(json(patch).code, 'DOCUMENT_NUMBER_TAKEN')
  const same = await call(app, 'PATCH', '/v1/plans/zj-2023-work-plan', { documentNumber, title: '2023年全省残联工作要点' })
  t.equal(same.statusCode, 200)
  t.equal(json(same).documentNumber, documentNumber)
  // Plans without a number do not collide with each other.
  t.equal(json(await app.inject('/v1/plans/zj-2023-other')).documentNumber, null)
})

t.test('422 for rules a schema cannot express', async (t) => {
  const years = await call(app, 'POST', '/v1/plans', planBody({ id: 'bad-years', startYear: 2025, endYear: 2021 }))
  t.equal(years.statusCode, 422)
  t.equal(years.headers['content-type'], PROBLEM)
  t.match(json(years), { code: 'UNPROCESSABLE', errors: [{ field: '/body/endYear' }] })

  const baseline = await call(app, 'POST', '/v1/plans', planBody({ id: 'bad-baseline', baselineYear: 2022 }))
  t.equal(baseline.statusCode, 422)
  t.match(json(baseline), { code: 'UNPROCESSABLE', errors: [{ field: '/body/baselineYear' }] })

  const region = await call(app, 'POST', '/v1/plans', planBody({ id: 'bad-region', regionCode: '339999' }))
  t.equal(region.statusCode, 422)
  t.match(json(region), { code: 'REFERENCE_NOT_FOUND', errors: [{ field: '/body/regionCode', code: 'not-found' }] })

  const parent = await call(app, 'POST', '/v1/plans', planBody({ id: 'bad-parent', parentPlanId: 'no-such-plan' }))
  t.equal(parent.statusCode, 422)
  t.match(json(parent), { code: 'REFERENCE_NOT_FOUND', errors: [{ field: '/body/parentPlanId', code: 'not-found' }] })

  const self = await call(app, 'PUT', '/v1/plans/own-parent', { ...planBody({ parentPlanId: 'own-parent' }), id: undefined })
  t.equal(self.statusCode, 422)
  t.equal(json(self).code, 'INVALID_PLAN_PARENT')

  for (const id of ['bad-years', 'bad-baseline', 'bad-region', 'bad-parent', 'own-parent']) {
    t.equal((await app.inject(`/v1/plans/${id}`)).statusCode, 404, `${id} was not created`)
  }
})

t.test('a parent cycle is 422 INVALID_PLAN_PARENT', async (t) => {
  await createPlan(app, { id: 'cycle-a' })
  await createPlan(app, { id: 'cycle-b', parentPlanId: 'cycle-a' })
  await createPlan(app, { id: 'cycle-c', parentPlanId: 'cycle-b' })

  const direct = await call(app, 'PATCH', '/v1/plans/cycle-a', { parentPlanId: 'cycle-b' })
  t.equal(direct.statusCode, 422)
  t.match(json(direct), { code: 'INVALID_PLAN_PARENT', errors: [{ field: '/body/parentPlanId' }] })

  const indirect = await call(app, 'PUT', '/v1/plans/cycle-a', { ...planBody({ parentPlanId: 'cycle-c' }), id: undefined })
  t.equal(indirect.statusCode, 422)
  t.equal(json(indirect).code, 'INVALID_PLAN_PARENT')

  const a = json(await app.inject('/v1/plans/cycle-a'))
  t.equal(a.parentPlanId, null)
  t.equal(a.revision, 1)
})

t.test('PUT creates (201) then replaces (200), clearing omitted fields', async (t) => {
  const { id: _id, ...body }: Record<string, unknown> = planBody({ titleEn: 'Huangyan plan', issuer: '黄岩区政府', sourceUrl: 'https://www.zjhy.gov.cn/plan.html', status: 'draft' })
  const created = await call(app, 'PUT', '/v1/plans/put-plan', body)
  t.equal(created.statusCode, 201)
  t.equal(created.headers.location, '/v1/plans/put-plan')
  t.equal(created.headers.etag, '"1"')
  t.match(json(created), { id: 'put-plan', titleEn: 'Huangyan plan', status: 'draft', revision: 1 })

  const { titleEn: _t, issuer: _i, sourceUrl: _s, status: _st, ...smaller } = body
  const replaced = await call(app, 'PUT', '/v1/plans/put-plan', { ...smaller, endYear: 2026 })
  t.equal(replaced.statusCode, 200)
  t.notOk(replaced.headers.location)
  t.equal(replaced.headers.etag, '"2"')
  t.match(json(replaced), { id: 'put-plan', titleEn: null, issuer: null, sourceUrl: null, status: 'in-force', endYear: 2026, revision: 2 })
  t.same(json(await app.inject('/v1/plans/put-plan')), json(replaced))

  const ifNoneMatch = await call(app, 'PUT', '/v1/plans/put-plan', smaller, { 'if-none-match': '*' })
  t.equal(ifNoneMatch.statusCode, 412)
  t.equal(json(ifNoneMatch).code, 'PRECONDITION_FAILED')
})

t.test('ETag, If-None-Match (304) and If-Match (412)', async (t) => {
  await createPlan(app, { id: 'etag-plan' })
  const notModified = await app.inject({ url: '/v1/plans/etag-plan', headers: { 'if-none-match': '"1"' } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
  t.equal(notModified.headers.etag, '"1"')
  t.equal((await app.inject({ url: '/v1/plans/etag-plan', headers: { 'if-none-match': '"7"' } })).statusCode, 200)

  const patched = await call(app, 'PATCH', '/v1/plans/etag-plan', { status: 'expired' }, { 'if-match': '"1"' })
  t.equal(patched.statusCode, 200)
  t.equal(patched.headers.etag, '"2"')
  t.match(json(patched), { status: 'expired', revision: 2, title: planBody().title, startYear: 2021 })

  const stalePatch = await call(app, 'PATCH', '/v1/plans/etag-plan', { status: 'superseded' }, { 'if-match': '"1"' })
  t.equal(stalePatch.statusCode, 412)
  t.equal(stalePatch.headers['content-type'], PROBLEM)
  t.equal(json(stalePatch).code, 'PRECONDITION_FAILED')
  const { id: _id, ...body } = planBody()
  t.equal((await call(app, 'PUT', '/v1/plans/etag-plan', body, { 'if-match': '"1"' })).statusCode, 412)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/plans/etag-plan', headers: { 'if-match': '"1"' } })).statusCode, 412)
  t.equal((await call(app, 'PUT', '/v1/plans/etag-absent', body, { 'if-match': '"1"' })).statusCode, 412)
  t.equal((await app.inject('/v1/plans/etag-absent')).statusCode, 404)

  const after = await app.inject('/v1/plans/etag-plan')
  t.equal(after.headers.etag, '"2"')
  t.equal(json(after).status, 'expired')
  t.equal((await app.inject({ url: '/v1/plans/etag-plan', headers: { 'if-none-match': '"1"' } })).statusCode, 200)

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/plans/etag-plan', headers: { 'if-match': '"2"' } })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  t.equal((await app.inject('/v1/plans/etag-plan')).statusCode, 404)
})

t.test('PATCH merges, checks the result, and 404s for an unknown plan', async (t) => {
  await createPlan(app, { id: 'patch-plan', issuer: '黄岩区政府', documentNumber: '黄政发〔2021〕9号' })
  const res = await call(app, 'PATCH', '/v1/plans/patch-plan', { titleEn: 'English title', documentNumber: null, issuedOn: '2021-11-02' })
  t.equal(res.statusCode, 200)
  t.match(json(res), { titleEn: 'English title', documentNumber: null, issuer: '黄岩区政府', issuedOn: '2021-11-02', revision: 2 })

  const merged = await call(app, 'PATCH', '/v1/plans/patch-plan', { endYear: 2020 })
  t.equal(merged.statusCode, 422, 'endYear before the stored startYear')
  t.equal(json(merged).code, 'UNPROCESSABLE')

  const mergeType = await app.inject({
    method: 'PATCH',
    url: '/v1/plans/patch-plan',
    headers: { 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ issuer: null })
  })
  t.equal(mergeType.statusCode, 200)
  t.match(json(mergeType), { issuer: null, titleEn: 'English title', revision: 3 })

  const missing = await call(app, 'PATCH', '/v1/plans/no-such-plan', { status: 'expired' })
  t.equal(missing.statusCode, 404)
  t.equal(json(missing).code, 'PLAN_NOT_FOUND')
  const empty = await call(app, 'PATCH', '/v1/plans/patch-plan', {})
  t.equal(empty.statusCode, 400)
  t.equal(json(empty).code, 'VALIDATION_FAILED')
})

t.test('strict bodies: unknown properties and wrong types are 400, never coerced', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unknown property', { colour: 'red' }, '/body/colour'],
    ['startYear as a string', { startYear: '2021' }, '/body/startYear'],
    ['endYear as a float', { endYear: 2025.5 }, '/body/endYear'],
    ['kind outside the enum', { kind: 'decree' }, '/body/kind'],
    ['id that is not a slug', { id: 'Not A Slug' }, '/body/id'],
    ['regionCode that is not a code', { regionCode: '33100' }, '/body/regionCode'],
    ['issuedOn that is not a date', { issuedOn: '2021-13-01' }, '/body/issuedOn'],
    ['title as a number', { title: 14 }, '/body/title'],
    ['empty title', { title: '' }, '/body/title'],
    ['sourceUrl that is not http', { sourceUrl: 'ftp://example.org/plan' }, '/body/sourceUrl']
  ]
  for (const [name, override, field] of cases) {
    const res = await call(app, 'POST', '/v1/plans', planBody({ id: 'strict-plan', ...override }))
    t.equal(res.statusCode, 400, name)
    t.equal(res.headers['content-type'], PROBLEM, name)
    t.equal(json(res).code, 'VALIDATION_FAILED', name)
    t.ok(json(res).errors.some((e: { field: string }) => e.field === field), `${name}: error names ${field}`)
  }
  const { title: _title, ...untitled } = planBody({ id: 'strict-plan' })
  const missing = await call(app, 'POST', '/v1/plans', untitled)
  t.equal(missing.statusCode, 400)
  t.match(json(missing).errors, [{ field: '/body/title', code: 'required' }])

  const notJson = await app.inject({ method: 'POST', url: '/v1/plans', headers: { 'content-type': 'application/json' }, payload: '{"id":' })
  t.equal(notJson.statusCode, 400)
  t.equal(json(notJson).code, 'INVALID_JSON')

  await createPlan(app, { id: 'strict-existing' })
  const patch = await call(app, 'PATCH', '/v1/plans/strict-existing', { id: 'renamed' })
  t.equal(patch.statusCode, 422)
  t.equal(json(patch).code, 'KEY_MISMATCH')
  t.match(json(patch).errors, [{ field: '/body/id' }])
  const putYear = await call(app, 'PUT', '/v1/plans/strict-existing', { ...planBody({ startYear: '2021' }), id: undefined })
  t.equal(putYear.statusCode, 400)
  t.equal((await app.inject('/v1/plans/strict-plan')).statusCode, 404)
  t.equal(json(await app.inject('/v1/plans/strict-existing')).revision, 1)
})

t.test('DELETE: 409 PLAN_IN_USE while a child references it; removes its targets', async (t) => {
  await createPlan(app, { id: 'del-parent', regionCode: '331000', title: '台州市“十四五”规划' })
  await createPlan(app, { id: 'del-child', parentPlanId: 'del-parent' })
  const target = { regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2025, value: 100 }
  t.equal((await call(app, 'PUT', '/v1/plans/del-parent/targets', { targets: [target] })).statusCode, 200)
  const [stored] = json(await app.inject('/v1/plans/del-parent/targets')).items
  t.ok(stored.id)

  const inUse = await app.inject({ method: 'DELETE', url: '/v1/plans/del-parent' })
  t.equal(inUse.statusCode, 409)
  t.equal(inUse.headers['content-type'], PROBLEM)
  t.equal(json(inUse).code, 'PLAN_IN_USE')
  t.equal((await app.inject('/v1/plans/del-parent')).statusCode, 200)
  t.equal((await app.inject(`/v1/values/${stored.id}`)).statusCode, 200)

  t.equal((await app.inject({ method: 'DELETE', url: '/v1/plans/del-child' })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/plans/del-parent' })).statusCode, 204)
  t.equal((await app.inject('/v1/plans/del-parent')).statusCode, 404)
  t.equal(json(await app.inject(`/v1/values/${stored.id}`)).code, 'VALUE_NOT_FOUND')
  t.same(json(await app.inject('/v1/values?plan=del-parent&breakdown=*')).items, [])
  const again = await app.inject({ method: 'DELETE', url: '/v1/plans/del-parent' })
  t.equal(again.statusCode, 404)
  t.equal(json(again).code, 'PLAN_NOT_FOUND')
})

t.test('list: filters region, kind, year; pages across cursors', async (t) => {
  const app = await build(t)
  await createRegions(app)
  await createPlan(app, { id: 'l-huangyan-14th' })
  await createPlan(app, { id: 'l-huangyan-13th', startYear: 2016, endYear: 2020, baselineYear: 2015 })
  await createPlan(app, { id: 'l-huangyan-2023', kind: 'annual-work-plan', startYear: 2023, endYear: 2023, baselineYear: null })
  await createPlan(app, { id: 'l-zhejiang-14th', regionCode: '330000' })
  await createPlan(app, { id: 'l-zhejiang-2022-summary', kind: 'work-summary', regionCode: '330000', startYear: 2022, endYear: 2022, baselineYear: null })

  const all = await app.inject('/v1/plans')
  t.equal(all.statusCode, 200)
  t.equal(all.headers['content-type'], JSON_TYPE)
  t.same(json(all), {
    items: json(all).items,
    nextCursor: null
  })
  t.same(ids(all), ['l-huangyan-13th', 'l-huangyan-14th', 'l-huangyan-2023', 'l-zhejiang-14th', 'l-zhejiang-2022-summary'])

  t.same(ids(await app.inject('/v1/plans?region=331003')), ['l-huangyan-13th', 'l-huangyan-14th', 'l-huangyan-2023'])
  t.same(ids(await app.inject('/v1/plans?kind=five-year-plan')), ['l-huangyan-13th', 'l-huangyan-14th', 'l-zhejiang-14th'])
  t.same(ids(await app.inject('/v1/plans?year=2020')), ['l-huangyan-13th'])
  t.same(ids(await app.inject('/v1/plans?year=2021')), ['l-huangyan-14th', 'l-zhejiang-14th'], 'first year of a plan counts')
  t.same(ids(await app.inject('/v1/plans?year=2025')), ['l-huangyan-14th', 'l-zhejiang-14th'], 'last year of a plan counts')
  t.same(ids(await app.inject('/v1/plans?year=2023&region=331003')), ['l-huangyan-14th', 'l-huangyan-2023'])
  t.same(ids(await app.inject('/v1/plans?year=2022&kind=work-summary&region=330000')), ['l-zhejiang-2022-summary'])
  t.same(ids(await app.inject('/v1/plans?year=2030')), [])

  const seen: string[] = []
  let url = '/v1/plans?limit=2'
  let pages = 0
  for (;;) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 200)
    const page = json(res)
    t.ok(page.items.length <= 2)
    seen.push(...ids(res))
    pages++
    if (page.nextCursor === null) break
    t.type(page.nextCursor, 'string')
    url = `/v1/plans?limit=2&cursor=${page.nextCursor as string}`
  }
  t.equal(pages, 3)
  t.same(seen, ids(all))

  const filtered = json(await app.inject('/v1/plans?region=331003&limit=2'))
  t.equal(filtered.items.length, 2)
  t.same(ids(await app.inject(`/v1/plans?region=331003&limit=2&cursor=${filtered.nextCursor as string}`)), ['l-huangyan-2023'])

  for (const bad of ['limit=0', 'limit=1001', 'year=abc', 'kind=decree', 'region=33', 'colour=red', 'cursor=not-a-cursor', 'cursor=W10']) {
    const res = await app.inject(`/v1/plans?${bad}`)
    t.equal(res.statusCode, 400, bad)
    t.equal(res.headers['content-type'], PROBLEM, bad)
    t.ok(['VALIDATION_FAILED', 'INVALID_CURSOR'].includes(json(res).code), bad)
  }
})
