import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, call, createIndicator, createRegions, indicatorBody, json } from './helper.ts'

/** Asserts an RFC 9457 problem with the given status and stable code; answers its body. */
function assertProblem (t: Test, res: LightMyRequestResponse, status: number, code: string) {
  t.equal(res.statusCode, status, `status ${status}`, { body: res.body })
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = json(res)
  t.equal(body.code, code)
  t.equal(body.status, status)
  t.equal(body.type, `urn:indicator-registry:problem:${code.toLowerCase().replaceAll('_', '-')}`)
  t.type(body.title, 'string')
  t.type(body.detail, 'string')
  t.equal(body.instance, (res.raw.req.url ?? '').split('?')[0])
  return body
}

const fields = (res: LightMyRequestResponse): string[] => (json(res).errors ?? []).map((e: { field: string }) => e.field)
const codesOf = (res: LightMyRequestResponse): string[] => json(res).items.map((r: { code: string }) => r.code)

async function walk (app: FastifyInstance, url: string): Promise<string[][]> {
  const pages: string[][] = []
  let next: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const res = await call(app, 'GET', next === null ? url : `${url}${sep}cursor=${next}`)
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    pages.push(codesOf(res))
    next = json(res).nextCursor
  } while (next !== null && pages.length < 50)
  return pages
}

/** A small catalogue spread over domains, created in no particular order. */
const catalogue = [
  { code: 'rehab-service-coverage', name: '残疾人基本康复服务覆盖率', nameEn: 'Basic rehabilitation coverage', domain: 'rehabilitation' },
  { code: 'hardship-subsidy-recipients', name: '困难残疾人生活补贴人数', nameEn: 'Hardship subsidy recipients', domain: 'income', unit: 'persons', aggregation: 'sum', min: 0, max: null },
  { code: 'accessible-home-retrofits', name: '困难重度残疾人家庭无障碍改造', nameEn: null, domain: 'accessibility', unit: 'households', aggregation: 'sum', max: null },
  { code: 'employment-new-jobs', name: '城乡残疾人新增就业人数', nameEn: 'New jobs for disabled people', domain: 'employment', unit: 'persons', aggregation: 'sum', max: null },
  { code: 'hardship-subsidy-coverage', name: '困难残疾人生活补贴覆盖率', domain: 'income' },
  { code: 'care-subsidy-coverage', name: '重度残疾人护理补贴覆盖率', nameEn: 'Severe disability care-subsidy coverage', domain: 'income' }
]
const allCodes = catalogue.map((c) => c.code).sort()

t.test('indicators', async (t) => {
  const app = await build(t)
  await createRegions(app)
  for (const entry of catalogue) await createIndicator(app, entry)

  t.test('GET one indicator with its ETag; decimals are strings', async (t) => {
    const res = await call(app, 'GET', '/v1/indicators/hardship-subsidy-coverage')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    const body = json(res)
    t.match(body, {
      code: 'hardship-subsidy-coverage', name: '困难残疾人生活补贴覆盖率', nameEn: 'Hardship living-subsidy coverage',
      domain: 'income', unit: 'percent', aggregation: 'ratio', direction: 'increase',
      min: '0', max: '100', definition: null, numeratorLabel: null, denominatorLabel: null, revision: 1
    })
    t.same(Object.keys(body).sort(), [
      'aggregation', 'code', 'createdAt', 'definition', 'denominatorLabel', 'direction', 'domain', 'max', 'min',
      'name', 'nameEn', 'nature', 'numeratorLabel', 'revision', 'unit', 'updatedAt'
    ])
    t.equal(body.nature, 'rate', 'a percent indicator sent without a nature is a rate')
    t.equal(res.headers.etag, `"${body.revision}"`)
    t.match(json(await call(app, 'GET', '/v1/indicators/hardship-subsidy-recipients')), { min: '0', max: null })
  })

  t.test('404 INDICATOR_NOT_FOUND and 400 for a malformed code', async (t) => {
    const res = await call(app, 'GET', '/v1/indicators/no-such-indicator')
    const body = assertProblem(t, res, 404, 'INDICATOR_NOT_FOUND')
    t.equal(body.title, 'Indicator not found')
    t.equal(body.instance, '/v1/indicators/no-such-indicator')
    assertProblem(t, await call(app, 'PATCH', '/v1/indicators/no-such-indicator', { name: 'x' }), 404, 'INDICATOR_NOT_FOUND')
    assertProblem(t, await call(app, 'DELETE', '/v1/indicators/no-such-indicator'), 404, 'INDICATOR_NOT_FOUND')
    const bad = await call(app, 'GET', '/v1/indicators/Not_A_Slug')
    assertProblem(t, bad, 400, 'VALIDATION_FAILED')
    t.same(fields(bad), ['/path/code'])
    assertProblem(t, await call(app, 'GET', '/v1/indicatorz'), 404, 'ROUTE_NOT_FOUND')
  })

  t.test('POST creates: 201, Location, ETag', async (t) => {
    const res = await call(app, 'POST', '/v1/indicators', indicatorBody({
      code: 'sign-language-programs', name: '手语节目', domain: 'culture-sports', unit: 'items', aggregation: 'none',
      min: null, max: null, definition: '电视台手语栏目数', numeratorLabel: null
    }))
    t.equal(res.statusCode, 201, res.body)
    t.equal(res.headers.location, '/v1/indicators/sign-language-programs')
    t.equal(res.headers.etag, '"1"')
    t.match(json(res), { code: 'sign-language-programs', aggregation: 'none', min: null, max: null, definition: '电视台手语栏目数', revision: 1 })
    t.same(json(await call(app, 'GET', '/v1/indicators/sign-language-programs')), json(res))
    t.equal((await call(app, 'DELETE', '/v1/indicators/sign-language-programs')).statusCode, 204)
  })

  t.test('POST of an existing code is 409 INDICATOR_EXISTS and changes nothing', async (t) => {
    const res = await call(app, 'POST', '/v1/indicators', indicatorBody({ name: '别的名字', max: 50 }))
    assertProblem(t, res, 409, 'INDICATOR_EXISTS')
    t.match(json(await call(app, 'GET', '/v1/indicators/hardship-subsidy-coverage')), { name: '困难残疾人生活补贴覆盖率', max: '100', revision: 1 })
  })

  t.test('list: ordered by code, filters domain and q', async (t) => {
    const all = await call(app, 'GET', '/v1/indicators')
    t.equal(all.statusCode, 200)
    t.same(codesOf(all), allCodes)
    t.equal(json(all).nextCursor, null)
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?domain=income')),
      ['care-subsidy-coverage', 'hardship-subsidy-coverage', 'hardship-subsidy-recipients'])
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?domain=rights')), [])
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?q=subsidy')),
      ['care-subsidy-coverage', 'hardship-subsidy-coverage', 'hardship-subsidy-recipients'], 'code substring')
    t.same(codesOf(await call(app, 'GET', `/v1/indicators?q=${encodeURIComponent('补贴')}`)),
      ['care-subsidy-coverage', 'hardship-subsidy-coverage', 'hardship-subsidy-recipients'], 'Chinese name')
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?q=REHABILITATION')), ['rehab-service-coverage'], 'English name, any case')
    t.same(codesOf(await call(app, 'GET', `/v1/indicators?q=${encodeURIComponent('覆盖率')}&domain=income`)),
      ['care-subsidy-coverage', 'hardship-subsidy-coverage'], 'filters combine')
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?q=%25')), [], '% is not a wildcard')
    t.same(codesOf(await call(app, 'GET', '/v1/indicators?q=_')), [], '_ is not a wildcard')
    assertProblem(t, await call(app, 'GET', '/v1/indicators?domain=health'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/indicators?q='), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/indicators?unit=persons'), 400, 'VALIDATION_FAILED')
  })

  t.test('cursor pagination visits every indicator exactly once', async (t) => {
    for (const limit of [1, 2, 4, 6]) {
      const pages = await walk(app, `/v1/indicators?limit=${limit}`)
      t.same(pages.flat(), allCodes, `limit ${limit}`)
      t.equal(pages.length, Math.ceil(allCodes.length / limit), `limit ${limit}: no empty trailing page`)
    }
    t.same((await walk(app, '/v1/indicators?domain=income&limit=2')).flat(),
      ['care-subsidy-coverage', 'hardship-subsidy-coverage', 'hardship-subsidy-recipients'], 'the filter holds across pages')

    const cursor: string = json(await call(app, 'GET', '/v1/indicators?limit=1')).nextCursor
    for (const bad of [cursor.slice(2), Buffer.from('[1]').toString('base64url'), Buffer.from('{}').toString('base64url')]) {
      const res = await call(app, 'GET', `/v1/indicators?cursor=${bad}`)
      assertProblem(t, res, 400, 'INVALID_CURSOR')
      t.same(fields(res), ['/query/cursor'])
    }
    assertProblem(t, await call(app, 'GET', '/v1/indicators?limit=1001'), 400, 'VALIDATION_FAILED')
  })

  t.test('decimals for min and max', async (t) => {
    const put = (overrides: Record<string, unknown>) => {
      const { code: _c, ...body } = indicatorBody({ code: 'decimal-probe', ...overrides })
      return call(app, 'PUT', '/v1/indicators/decimal-probe', body)
    }
    const accepted: Array<[unknown, unknown, string | null, string | null]> = [
      [0, 100, '0', '100'], ['0', '100', '0', '100'], ['-0', 99.5, '0', '99.5'],
      ['-5.25', '0.000001', '-5.25', '0.000001'], [2, 10, '2', '10'], ['100', '100', '100', '100'], [null, 1e3, null, '1000']
    ]
    for (const [min, max, wantMin, wantMax] of accepted) {
      const res = await put({ min, max })
      t.ok([200, 201].includes(res.statusCode), `min ${String(min)}, max ${String(max)} accepted`, { body: res.body })
      t.match(json(res), { min: wantMin, max: wantMax })
      t.match(json(await call(app, 'GET', '/v1/indicators/decimal-probe')), { min: wantMin, max: wantMax }, 'stored exactly')
    }
    for (const max of ['1e3', '0100', '100.', '.5', '1.1234567', '1 000', 'NaN', 0.1 + 0.2, 1e21, true, {}]) {
      const res = await put({ max })
      assertProblem(t, res, 400, 'VALIDATION_FAILED')
      t.ok(fields(res).includes('/body/max'), `max ${JSON.stringify(max)} rejected at /body/max`)
    }
    t.match(json(await call(app, 'GET', '/v1/indicators/decimal-probe')), { min: null, max: '1000' }, 'rejected writes change nothing')

    t.test('min above max is 422, compared as decimals', async (t) => {
      for (const [min, max] of [[10, 9.5], ['10', '9.5'], ['0.000002', '0.000001'], [1, -1]]) {
        const res = await put({ min, max })
        assertProblem(t, res, 422, 'UNPROCESSABLE')
        t.same(fields(res), ['/body/min'])
      }
      const post = await call(app, 'POST', '/v1/indicators', indicatorBody({ code: 'inverted-range', min: 100, max: 0 }))
      assertProblem(t, post, 422, 'UNPROCESSABLE')
      assertProblem(t, await call(app, 'GET', '/v1/indicators/inverted-range'), 404, 'INDICATOR_NOT_FOUND')
      assertProblem(t, await call(app, 'PATCH', '/v1/indicators/decimal-probe', { min: 1001 }), 422, 'UNPROCESSABLE')
      t.match(json(await call(app, 'GET', '/v1/indicators/decimal-probe')), { min: null, max: '1000' })
      t.equal((await call(app, 'DELETE', '/v1/indicators/decimal-probe')).statusCode, 204)
    })
  })

  t.test('PUT creates (201 + Location) then replaces (200), clearing omitted fields', async (t) => {
    const body = {
      name: '残疾人托养服务人数', nameEn: 'Residential care recipients', domain: 'care', unit: 'persons', aggregation: 'sum',
      direction: 'increase', min: 0, definition: '接受托养服务的残疾人数'
    }
    const created = await call(app, 'PUT', '/v1/indicators/care-service-recipients', body)
    t.equal(created.statusCode, 201, created.body)
    t.equal(created.headers.location, '/v1/indicators/care-service-recipients')
    t.equal(created.headers.etag, '"1"')
    t.match(json(created), { code: 'care-service-recipients', min: '0', max: null, definition: '接受托养服务的残疾人数', revision: 1 })

    const { nameEn: _e, definition: _d, min: _m, ...minimal } = body
    const replaced = await call(app, 'PUT', '/v1/indicators/care-service-recipients', { ...minimal, direction: 'decrease' })
    t.equal(replaced.statusCode, 200)
    t.notOk(replaced.headers.location, 'no Location when replacing')
    t.equal(replaced.headers.etag, '"2"')
    t.match(json(replaced), { nameEn: null, definition: null, min: null, max: null, direction: 'decrease', revision: 2 })
    t.same(json(await call(app, 'GET', '/v1/indicators/care-service-recipients')), json(replaced))

    const withCode = await call(app, 'PUT', '/v1/indicators/care-service-recipients', json(await call(app, 'GET', '/v1/indicators/care-service-recipients')))
    t.equal(withCode.statusCode, 200, 'the representation GET answers, key and server fields included, goes back')
    t.equal(json(withCode).revision, 2, 'and, unchanged, writes nothing')
    const otherCode = await call(app, 'PUT', '/v1/indicators/care-service-recipients', { code: 'care-service-other', ...body })
    assertProblem(t, otherCode, 422, 'KEY_MISMATCH')
    t.same(fields(otherCode), ['/body/code'])
    const onlyCreate = await call(app, 'PUT', '/v1/indicators/care-service-recipients', body, { 'if-none-match': '*' })
    assertProblem(t, onlyCreate, 412, 'PRECONDITION_FAILED')
    t.equal(json(await call(app, 'GET', '/v1/indicators/care-service-recipients')).revision, 2)
  })

  t.test('PATCH merges; null clears an optional field', async (t) => {
    const code = 'care-subsidy-coverage'
    const before = json(await call(app, 'PATCH', `/v1/indicators/${code}`, {
      definition: '享受护理补贴人数占重度残疾人数的比例', numeratorLabel: '享受护理补贴人数', denominatorLabel: '重度残疾人数'
    }))
    t.match(before, { nameEn: 'Severe disability care-subsidy coverage', definition: '享受护理补贴人数占重度残疾人数的比例', min: '0', max: '100' })

    const renamed = await call(app, 'PATCH', `/v1/indicators/${code}`, { name: '重度残疾人护理补贴发放率' })
    t.equal(renamed.statusCode, 200)
    t.equal(renamed.headers.etag, `"${before.revision + 1}"`)
    const { name: _n, revision: _r, updatedAt: _u, ...untouched } = before
    t.match(json(renamed), { ...untouched, name: '重度残疾人护理补贴发放率', revision: before.revision + 1 }, 'only name changed')

    const cleared = await call(app, 'PATCH', `/v1/indicators/${code}`, { nameEn: null, definition: null, max: null },
      { 'content-type': 'application/merge-patch+json' })
    t.equal(cleared.statusCode, 200, cleared.body)
    t.match(json(cleared), {
      name: '重度残疾人护理补贴发放率', nameEn: null, definition: null, max: null, min: '0',
      numeratorLabel: '享受护理补贴人数', denominatorLabel: '重度残疾人数', revision: before.revision + 2
    })
    t.same(json(await call(app, 'GET', `/v1/indicators/${code}`)), json(cleared))

    t.equal(json(await call(app, 'PATCH', `/v1/indicators/${code}`, { max: 100 })).max, '100')
    for (const patch of [{}, { name: null }, { domain: null }, { unit: 'people' }, { colour: 'red' }]) {
      assertProblem(t, await call(app, 'PATCH', `/v1/indicators/${code}`, patch), 400, 'VALIDATION_FAILED')
    }
    assertProblem(t, await call(app, 'PATCH', `/v1/indicators/${code}`, { code: 'other-code' }), 422, 'KEY_MISMATCH')
    t.equal(json(await call(app, 'GET', `/v1/indicators/${code}`)).revision, before.revision + 3, 'rejected patches change nothing')
  })

  t.test('conditional requests', async (t) => {
    const url = '/v1/indicators/rehab-service-coverage'
    const res = await call(app, 'GET', url)
    const etag = res.headers.etag as string
    t.equal(etag, `"${json(res).revision}"`)

    const cached = await call(app, 'GET', url, undefined, { 'if-none-match': etag })
    t.equal(cached.statusCode, 304)
    t.equal(cached.body, '')
    t.equal(cached.headers.etag, etag)
    t.equal((await call(app, 'GET', url, undefined, { 'if-none-match': '"999"' })).statusCode, 200)

    const stale = { 'if-match': '"999"' }
    const { code: _c, ...replacement } = indicatorBody({ name: '康复服务覆盖率' })
    assertProblem(t, await call(app, 'PUT', url, replacement, stale), 412, 'PRECONDITION_FAILED')
    assertProblem(t, await call(app, 'PATCH', url, { name: '康复服务覆盖率' }, stale), 412, 'PRECONDITION_FAILED')
    assertProblem(t, await call(app, 'DELETE', url, undefined, stale), 412, 'PRECONDITION_FAILED')
    assertProblem(t, await call(app, 'PUT', '/v1/indicators/not-yet-there', replacement, stale), 412, 'PRECONDITION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/indicators/not-yet-there'), 404, 'INDICATOR_NOT_FOUND')
    const after = await call(app, 'GET', url)
    t.same(json(after), json(res), 'unchanged')
    t.equal(after.headers.etag, etag)

    const patched = await call(app, 'PATCH', url, { name: '康复服务覆盖率' }, { 'if-match': etag })
    t.equal(patched.statusCode, 200)
    t.not(patched.headers.etag, etag)
    t.equal((await call(app, 'GET', url, undefined, { 'if-none-match': etag })).statusCode, 200, 'old ETag is stale')
    t.equal((await call(app, 'GET', url, undefined, { 'if-none-match': patched.headers.etag as string })).statusCode, 304)
  })

  t.test('values bind the indicator', async (t) => {
    const code = 'hardship-subsidy-coverage'
    const created = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: code, year: 2021, value: 95 })
    t.equal(created.statusCode, 201, created.body)
    const before = await call(app, 'GET', `/v1/indicators/${code}`)

    t.test('narrowing the range below a value is 422 and changes nothing', async (t) => {
      const { code: _c, ...body } = indicatorBody({ max: 90 })
      for (const res of [
        await call(app, 'PATCH', `/v1/indicators/${code}`, { max: 90 }),
        await call(app, 'PATCH', `/v1/indicators/${code}`, { max: '94.999999' }),
        await call(app, 'PATCH', `/v1/indicators/${code}`, { min: 96 }),
        await call(app, 'PATCH', `/v1/indicators/${code}`, { min: 96, max: null }),
        await call(app, 'PUT', `/v1/indicators/${code}`, body)
      ]) {
        const problem = assertProblem(t, res, 422, 'INDICATOR_RANGE_CONFLICT')
        t.match(problem.detail, /1 registered value/)
      }
      const after = await call(app, 'GET', `/v1/indicators/${code}`)
      t.same(json(after), json(before))
      t.equal(after.headers.etag, before.headers.etag)
    })

    t.test('a range that still holds every value is accepted (bounds inclusive)', async (t) => {
      const res = await call(app, 'PATCH', `/v1/indicators/${code}`, { min: 95, max: '95.0' })
      t.equal(res.statusCode, 200, res.body)
      t.match(json(res), { min: '95', max: '95.0' })
      t.equal(json(await call(app, 'PATCH', `/v1/indicators/${code}`, { min: 0, max: 100 })).max, '100')
    })

    t.test('DELETE is 409 INDICATOR_IN_USE while a value exists', async (t) => {
      const current = await call(app, 'GET', `/v1/indicators/${code}`)
      const res = await call(app, 'DELETE', `/v1/indicators/${code}`)
      assertProblem(t, res, 409, 'INDICATOR_IN_USE')
      const still = await call(app, 'GET', `/v1/indicators/${code}`)
      t.equal(still.statusCode, 200)
      t.same(json(still), json(current))

      t.equal((await call(app, 'DELETE', created.headers.location as string)).statusCode, 204)
      const gone = await call(app, 'DELETE', `/v1/indicators/${code}`, undefined, { 'if-match': current.headers.etag as string })
      t.equal(gone.statusCode, 204)
      t.equal(gone.body, '')
      assertProblem(t, await call(app, 'GET', `/v1/indicators/${code}`), 404, 'INDICATOR_NOT_FOUND')
      t.notOk(codesOf(await call(app, 'GET', '/v1/indicators')).includes(code))
    })
  })

  t.test('strict body validation', async (t) => {
    const valid = indicatorBody({ code: 'barrier-free-sites' })
    const post = (body: unknown) => call(app, 'POST', '/v1/indicators', body)

    const unknown = await post({ ...valid, target: 100 })
    t.match(assertProblem(t, unknown, 400, 'VALIDATION_FAILED').errors, [{ field: '/body/target', code: 'additionalProperties' }])
    const name = await post({ ...valid, name: 42 })
    assertProblem(t, name, 400, 'VALIDATION_FAILED')
    t.same(fields(name), ['/body/name'])
    const domain = await post({ ...valid, domain: 'health' })
    t.match(assertProblem(t, domain, 400, 'VALIDATION_FAILED').errors, [{ field: '/body/domain', code: 'enum' }])
    const { unit: _u, aggregation: _a, ...missing } = valid
    t.same(fields(await post(missing)).sort(), ['/body/aggregation', '/body/unit'])
    assertProblem(t, await post({ ...valid, code: 'Barrier Free' }), 400, 'VALIDATION_FAILED')
    assertProblem(t, await post({ ...valid, nameEn: '' }), 400, 'VALIDATION_FAILED')

    const broken = await app.inject({ method: 'POST', url: '/v1/indicators', headers: { 'content-type': 'application/json' }, payload: '{"code":' })
    assertProblem(t, broken, 400, 'INVALID_JSON')
    const xml = await app.inject({ method: 'POST', url: '/v1/indicators', headers: { 'content-type': 'application/xml' }, payload: '<indicator/>' })
    assertProblem(t, xml, 415, 'UNSUPPORTED_MEDIA_TYPE')
    assertProblem(t, await call(app, 'GET', '/v1/indicators/barrier-free-sites'), 404, 'INDICATOR_NOT_FOUND')
  })
})
