import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build, call, createIndicator, createPlan, createRegions, json, zhejiangTree } from './helper.ts'

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

/** Follows nextCursor from `url` until the last page; answers every page's codes. */
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

const allCodes = zhejiangTree.map((r) => r.code).sort()

t.test('regions', async (t) => {
  const app = await build(t)
  await createRegions(app)

  t.test('GET one region with its ETag', async (t) => {
    const res = await call(app, 'GET', '/v1/regions/331003')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    const body = json(res)
    t.match(body, { code: '331003', name: '黄岩区', nameEn: null, level: 'county', parentCode: '331000', revision: 1 })
    t.same(Object.keys(body).sort(), ['code', 'createdAt', 'level', 'name', 'nameEn', 'parentCode', 'revision', 'updatedAt'])
    t.ok(!Number.isNaN(Date.parse(body.createdAt)), 'createdAt is a timestamp')
    t.equal(res.headers.etag, `"${body.revision}"`)
  })

  t.test('404 REGION_NOT_FOUND is problem+json', async (t) => {
    const res = await call(app, 'GET', '/v1/regions/331099')
    const body = assertProblem(t, res, 404, 'REGION_NOT_FOUND')
    t.equal(body.title, 'Region not found')
    t.equal(body.instance, '/v1/regions/331099')
    t.match(body.detail, /331099/)
    for (const path of ['/children', '/ancestors', '/descendants']) {
      assertProblem(t, await call(app, 'GET', `/v1/regions/331099${path}`), 404, 'REGION_NOT_FOUND')
    }
    assertProblem(t, await call(app, 'PATCH', '/v1/regions/331099', { name: 'x' }), 404, 'REGION_NOT_FOUND')
    assertProblem(t, await call(app, 'DELETE', '/v1/regions/331099'), 404, 'REGION_NOT_FOUND')
  })

  t.test('malformed code in the path is 400', async (t) => {
    const res = await call(app, 'GET', '/v1/regions/33100')
    assertProblem(t, res, 400, 'VALIDATION_FAILED')
    t.same(fields(res), ['/path/code'])
  })

  t.test('unknown route is 404 ROUTE_NOT_FOUND', async (t) => {
    const res = await call(app, 'GET', '/v1/regionz')
    const body = assertProblem(t, res, 404, 'ROUTE_NOT_FOUND')
    t.equal(body.instance, '/v1/regionz')
    assertProblem(t, await call(app, 'GET', '/v1/regions/331003/siblings'), 404, 'ROUTE_NOT_FOUND')
  })

  t.test('list: all regions ordered by code', async (t) => {
    const res = await call(app, 'GET', '/v1/regions')
    t.equal(res.statusCode, 200)
    t.same(codesOf(res), allCodes)
    t.equal(json(res).nextCursor, null)
  })

  t.test('list filters: parent, level, q', async (t) => {
    t.same(codesOf(await call(app, 'GET', '/v1/regions?parent=331000')), ['331003', '331004'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions?parent=420000')), ['429004'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions?parent=331003')), [], 'a leaf has no children')
    t.same(codesOf(await call(app, 'GET', '/v1/regions?level=province')), ['330000', '420000'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions?level=county')), ['330683', '331003', '331004', '429004'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions?level=county&parent=331000')), ['331003', '331004'])
    t.same(codesOf(await call(app, 'GET', `/v1/regions?q=${encodeURIComponent('台州')}`)), ['331000'])
    t.same(codesOf(await call(app, 'GET', `/v1/regions?q=${encodeURIComponent('区')}`)), ['331003', '331004'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=3310')), ['331000', '331003', '331004'], 'code prefix')
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=1003')), [], 'a code matches by prefix only')
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=%25')), [], '% is not a wildcard')
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=_')), [], '_ is not a wildcard')
    assertProblem(t, await call(app, 'GET', '/v1/regions?level=city'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/regions?parent=abc'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/regions?colour=red'), 400, 'VALIDATION_FAILED')
  })

  t.test('q matches the English name case-insensitively', async (t) => {
    const res = await call(app, 'PATCH', '/v1/regions/331003', { nameEn: 'Huangyan District' })
    t.equal(res.statusCode, 200)
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=HUANGYAN')), ['331003'])
    t.equal((await call(app, 'PATCH', '/v1/regions/331003', { nameEn: null })).statusCode, 200)
    t.same(codesOf(await call(app, 'GET', '/v1/regions?q=huangyan')), [])
  })

  t.test('cursor pagination visits every region exactly once', async (t) => {
    for (const limit of [1, 2, 3, 10]) {
      const pages = await walk(app, `/v1/regions?limit=${limit}`)
      t.same(pages.flat(), allCodes, `limit ${limit}: all codes, in order, no repeats`)
      t.equal(pages.length, Math.ceil(allCodes.length / limit), `limit ${limit}: no empty trailing page`)
      t.ok(pages.every((p) => p.length <= limit))
    }
    const counties = await walk(app, '/v1/regions?level=county&limit=1')
    t.same(counties.flat(), ['330683', '331003', '331004', '429004'], 'the filter holds across pages')
    const below = await walk(app, '/v1/regions/330000/descendants?limit=2')
    t.same(below.flat(), ['330600', '330683', '330683001', '331000', '331003', '331004'])
    const children = await walk(app, '/v1/regions/100000/children?limit=1')
    t.same(children.flat(), ['330000', '420000'])
  })

  t.test('limit bounds and tampered cursors', async (t) => {
    const first = await call(app, 'GET', '/v1/regions?limit=2')
    const cursor: string = json(first).nextCursor
    t.type(cursor, 'string')
    t.same(codesOf(first), allCodes.slice(0, 2))
    t.same(codesOf(await call(app, 'GET', `/v1/regions?limit=2&cursor=${cursor}`)), allCodes.slice(2, 4))

    const foreign = Buffer.from(JSON.stringify([42]), 'utf8').toString('base64url')
    const tooLong = Buffer.from(JSON.stringify(['331000', 1]), 'utf8').toString('base64url')
    const notJson = Buffer.from('not json', 'utf8').toString('base64url')
    for (const bad of [cursor.slice(3), foreign, tooLong, notJson]) {
      const res = await call(app, 'GET', `/v1/regions?cursor=${bad}`)
      assertProblem(t, res, 400, 'INVALID_CURSOR')
      t.same(fields(res), ['/query/cursor'])
    }
    assertProblem(t, await call(app, 'GET', `/v1/regions/100000/descendants?cursor=${foreign}`), 400, 'INVALID_CURSOR')
    assertProblem(t, await call(app, 'GET', '/v1/regions?cursor=%21%21'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/regions?limit=0'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/regions?limit=1001'), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'GET', '/v1/regions?limit=ten'), 400, 'VALIDATION_FAILED')
  })

  t.test('children, ancestors, descendants', async (t) => {
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330000/children')), ['330600', '331000'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330000/children?level=county')), [])
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330683/children')), ['330683001'])

    const up = await call(app, 'GET', '/v1/regions/330683001/ancestors')
    t.equal(up.statusCode, 200)
    t.same(codesOf(up), ['100000', '330000', '330600', '330683'], 'root first, parent last')
    t.equal(json(up).nextCursor, null)
    t.match(json(up).items[0], { code: '100000', level: 'national', parentCode: null })
    t.same(codesOf(await call(app, 'GET', '/v1/regions/429004/ancestors')), ['100000', '420000'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions/100000/ancestors')), [])

    const down = await call(app, 'GET', '/v1/regions/100000/descendants')
    t.equal(down.statusCode, 200)
    t.same(codesOf(down), allCodes.filter((c) => c !== '100000'), 'everything but the region itself')
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330000/descendants?level=county')), ['330683', '331003', '331004'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330000/descendants?level=township')), ['330683001'])
    t.same(codesOf(await call(app, 'GET', '/v1/regions/330683001/descendants')), [])
  })

  t.test('POST creates: 201, Location, ETag, body', async (t) => {
    const res = await call(app, 'POST', '/v1/regions', { code: '440000', name: '广东省', nameEn: 'Guangdong', level: 'province', parentCode: '100000' })
    t.equal(res.statusCode, 201)
    t.equal(res.headers.location, '/v1/regions/440000')
    t.equal(res.headers.etag, '"1"')
    t.match(res.headers['content-type'], /^application\/json/)
    t.match(json(res), { code: '440000', name: '广东省', nameEn: 'Guangdong', level: 'province', parentCode: '100000', revision: 1 })
    const got = await call(app, 'GET', '/v1/regions/440000')
    t.same(json(got), json(res), 'GET answers what POST answered')
  })

  t.test('POST of an existing code is 409 REGION_EXISTS and changes nothing', async (t) => {
    const res = await call(app, 'POST', '/v1/regions', { code: '331003', name: '别的名字', level: 'county', parentCode: '331000' })
    assertProblem(t, res, 409, 'REGION_EXISTS')
    const got = json(await call(app, 'GET', '/v1/regions/331003'))
    t.equal(got.name, '黄岩区')
  })

  t.test('region rules', async (t) => {
    const post = (body: Record<string, unknown>) => call(app, 'POST', '/v1/regions', body)

    t.test('level must match the shape of the code', async (t) => {
      for (const [code, level, parentCode] of [
        ['331005', 'prefecture', '331000'], ['331100', 'county', '330000'], ['450000', 'prefecture', '100000'],
        ['331003002', 'county', '331003'], ['331005', 'township', '331000']
      ]) {
        const res = await post({ code, name: '测试', level, parentCode })
        assertProblem(t, res, 422, 'REGION_LEVEL_MISMATCH')
        t.same(fields(res), ['/body/level'])
        assertProblem(t, await call(app, 'GET', `/v1/regions/${code}`), 404, 'REGION_NOT_FOUND')
      }
      const root = await call(app, 'PUT', '/v1/regions/100000', { name: '中国', level: 'province', parentCode: null })
      assertProblem(t, root, 422, 'REGION_LEVEL_MISMATCH')
      t.match(json(await call(app, 'GET', '/v1/regions/100000')), { name: '中华人民共和国', level: 'national', revision: 1 })
    })

    t.test('parent must be higher and prefix-compatible', async (t) => {
      for (const [code, level, parentCode] of [
        ['331005', 'county', '330600'], // another prefecture of the same province
        ['331005', 'county', '420000'], // another province
        ['331005', 'county', '331004'], // a county under a county
        ['331200', 'prefecture', '331000'], // same level
        ['331005', 'county', null], // a county needs a parent
        ['331003003', 'township', '331004'] // township under the wrong county
      ]) {
        const res = await post({ code, name: '测试', level, parentCode })
        assertProblem(t, res, 422, 'INVALID_REGION_PARENT')
        t.same(fields(res), ['/body/parentCode'])
        assertProblem(t, await call(app, 'GET', `/v1/regions/${code}`), 404, 'REGION_NOT_FOUND')
      }
    })

    t.test('a missing parent is 422 REFERENCE_NOT_FOUND', async (t) => {
      const res = await post({ code: '332000', name: '测试', level: 'prefecture', parentCode: '340000' })
      assertProblem(t, res, 422, 'REFERENCE_NOT_FOUND')
      t.same(fields(res), ['/body/parentCode'])
    })

    t.test('accepted shapes: province-administered county, township under a county', async (t) => {
      const direct = await post({ code: '429005', name: '潜江市', level: 'county', parentCode: '420000' })
      t.equal(direct.statusCode, 201, direct.body)
      t.match(json(direct), { code: '429005', level: 'county', parentCode: '420000' })
      const township = await post({ code: '331003001', name: '西城街道', level: 'township', parentCode: '331003' })
      t.equal(township.statusCode, 201, township.body)
      t.same(codesOf(await call(app, 'GET', '/v1/regions/331003/children')), ['331003001'])
      t.same(codesOf(await call(app, 'GET', '/v1/regions/331003001/ancestors')), ['100000', '330000', '331000', '331003'])
    })

    t.test('PATCH is checked by the same rules', async (t) => {
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/331004', { parentCode: '330600' }), 422, 'INVALID_REGION_PARENT')
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/331004', { level: 'prefecture' }), 422, 'REGION_LEVEL_MISMATCH')
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/331004', { parentCode: '331099' }), 422, 'REFERENCE_NOT_FOUND')
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/331004', { parentCode: null }), 422, 'INVALID_REGION_PARENT')
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/100000', { parentCode: '330000' }), 422, 'INVALID_REGION_PARENT')
      const got = json(await call(app, 'GET', '/v1/regions/331004'))
      t.match(got, { level: 'county', parentCode: '331000', revision: 1 }, 'unchanged')
    })
  })

  t.test('PUT creates (201 + Location) then replaces (200)', async (t) => {
    const body = { name: '深圳市', nameEn: 'Shenzhen', level: 'prefecture', parentCode: '440000' }
    const created = await call(app, 'PUT', '/v1/regions/440300', body)
    t.equal(created.statusCode, 201, created.body)
    t.equal(created.headers.location, '/v1/regions/440300')
    t.equal(created.headers.etag, '"1"')
    t.match(json(created), { code: '440300', ...body, revision: 1 })

    const same = await call(app, 'PUT', '/v1/regions/440300', body)
    t.equal(same.statusCode, 200)
    t.notOk(same.headers.location, 'no Location when replacing')
    t.equal(same.headers.etag, '"1"', 'a replacement that changes nothing keeps the revision')

    const { nameEn: _omitted, ...withoutEnglish } = body
    const replaced = await call(app, 'PUT', '/v1/regions/440300', withoutEnglish)
    t.equal(replaced.statusCode, 200)
    t.match(json(replaced), { code: '440300', name: '深圳市', nameEn: null, revision: 2 }, 'an omitted optional field is cleared')
    t.same(json(await call(app, 'GET', '/v1/regions/440300')), json(replaced))

    assertProblem(t, await call(app, 'PUT', '/v1/regions/440301', { ...body, level: 'prefecture' }), 422, 'REGION_LEVEL_MISMATCH')
    assertProblem(t, await call(app, 'GET', '/v1/regions/440301'), 404, 'REGION_NOT_FOUND')
    const withCode = await call(app, 'PUT', '/v1/regions/440300', json(await call(app, 'GET', '/v1/regions/440300')))
    t.equal(withCode.statusCode, 200, 'the representation GET answers, key and server fields included, goes back')
    t.equal(json(withCode).revision, 2, 'and, unchanged, writes nothing')
    const otherCode = await call(app, 'PUT', '/v1/regions/440300', { code: '440301', ...body })
    assertProblem(t, otherCode, 422, 'KEY_MISMATCH')
    t.same(fields(otherCode), ['/body/code'])
    t.match(json(otherCode).detail, /440301.*440300/, 'the detail names both codes')
    assertProblem(t, await call(app, 'PUT', '/v1/regions/440300', { ...body, colour: 'red' }), 400, 'VALIDATION_FAILED')
  })

  t.test('PATCH merges: sent fields replace, null clears nameEn', async (t) => {
    const before = json(await call(app, 'GET', '/v1/regions/440000'))
    const renamed = await call(app, 'PATCH', '/v1/regions/440000', { name: '广东' })
    t.equal(renamed.statusCode, 200)
    t.match(json(renamed), { name: '广东', nameEn: 'Guangdong', level: 'province', parentCode: '100000', revision: before.revision + 1 })
    t.equal(renamed.headers.etag, `"${before.revision + 1}"`)
    t.equal(json(renamed).createdAt, before.createdAt)

    const cleared = await call(app, 'PATCH', '/v1/regions/440000', { nameEn: null }, { 'content-type': 'application/merge-patch+json' })
    t.equal(cleared.statusCode, 200, cleared.body)
    t.match(json(cleared), { name: '广东', nameEn: null, revision: before.revision + 2 })

    const empty = await call(app, 'PATCH', '/v1/regions/440000', {})
    assertProblem(t, empty, 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'PATCH', '/v1/regions/440000', { name: null }), 400, 'VALIDATION_FAILED')
    assertProblem(t, await call(app, 'PATCH', '/v1/regions/440000', { code: '440001' }), 422, 'KEY_MISMATCH')
    t.equal(json(await call(app, 'GET', '/v1/regions/440000')).revision, before.revision + 2, 'rejected patches change nothing')
  })

  t.test('conditional requests', async (t) => {
    const res = await call(app, 'GET', '/v1/regions/330600')
    const etag = res.headers.etag as string
    t.equal(etag, `"${json(res).revision}"`)

    t.test('If-None-Match: 304 when current, 200 when not', async (t) => {
      const cached = await call(app, 'GET', '/v1/regions/330600', undefined, { 'if-none-match': etag })
      t.equal(cached.statusCode, 304)
      t.equal(cached.body, '')
      t.equal(cached.headers.etag, etag)
      t.equal((await call(app, 'GET', '/v1/regions/330600', undefined, { 'if-none-match': `"0", W/${etag}` })).statusCode, 304, 'weak comparison, list')
      const stale = await call(app, 'GET', '/v1/regions/330600', undefined, { 'if-none-match': '"999"' })
      t.equal(stale.statusCode, 200)
      t.equal(json(stale).code, '330600')
    })

    t.test('a stale If-Match is 412 and changes nothing', async (t) => {
      const stale = { 'if-match': '"999"' }
      assertProblem(t, await call(app, 'PATCH', '/v1/regions/330600', { nameEn: 'Shaoxing' }, stale), 412, 'PRECONDITION_FAILED')
      assertProblem(t, await call(app, 'PUT', '/v1/regions/330600', { name: '绍兴', level: 'prefecture', parentCode: '330000' }, stale), 412, 'PRECONDITION_FAILED')
      const del = await call(app, 'POST', '/v1/regions', { code: '330700', name: '金华市', level: 'prefecture', parentCode: '330000' })
      t.equal(del.statusCode, 201)
      assertProblem(t, await call(app, 'DELETE', '/v1/regions/330700', undefined, stale), 412, 'PRECONDITION_FAILED')
      t.equal((await call(app, 'GET', '/v1/regions/330700')).statusCode, 200, 'not deleted')
      assertProblem(t, await call(app, 'PUT', '/v1/regions/330800', { name: '衢州市', level: 'prefecture', parentCode: '330000' }, stale), 412, 'PRECONDITION_FAILED')
      assertProblem(t, await call(app, 'GET', '/v1/regions/330800'), 404, 'REGION_NOT_FOUND')

      const after = await call(app, 'GET', '/v1/regions/330600')
      t.same(json(after), json(res), 'unchanged')
      t.equal(after.headers.etag, etag)
    })

    t.test('a current If-Match lets the write through', async (t) => {
      const patched = await call(app, 'PATCH', '/v1/regions/330600', { nameEn: 'Shaoxing' }, { 'if-match': etag })
      t.equal(patched.statusCode, 200)
      const next = patched.headers.etag as string
      t.not(next, etag)
      t.equal(next, `"${json(patched).revision}"`)
      t.equal((await call(app, 'GET', '/v1/regions/330600', undefined, { 'if-none-match': etag })).statusCode, 200, 'old ETag no longer matches')
      const put = await call(app, 'PUT', '/v1/regions/330600', { name: '绍兴市', level: 'prefecture', parentCode: '330000' }, { 'if-match': next })
      t.equal(put.statusCode, 200)
      t.equal(json(put).nameEn, null)
      const gone = await call(app, 'GET', '/v1/regions/330700')
      t.equal((await call(app, 'DELETE', '/v1/regions/330700', undefined, { 'if-match': gone.headers.etag as string })).statusCode, 204)
    })

    t.test('If-None-Match: * on PUT only creates', async (t) => {
      const onlyCreate = { 'if-none-match': '*' }
      const body = { name: '绍兴市', level: 'prefecture', parentCode: '330000' }
      assertProblem(t, await call(app, 'PUT', '/v1/regions/330600', body, onlyCreate), 412, 'PRECONDITION_FAILED')
      const created = await call(app, 'PUT', '/v1/regions/330900', { name: '舟山市', level: 'prefecture', parentCode: '330000' }, onlyCreate)
      t.equal(created.statusCode, 201)
    })
  })

  t.test('DELETE', async (t) => {
    t.test('a region that holds nothing: 204, then 404', async (t) => {
      t.equal((await call(app, 'POST', '/v1/regions', { code: '331081', name: '温岭市', level: 'county', parentCode: '331000' })).statusCode, 201)
      const res = await call(app, 'DELETE', '/v1/regions/331081')
      t.equal(res.statusCode, 204)
      t.equal(res.body, '')
      assertProblem(t, await call(app, 'GET', '/v1/regions/331081'), 404, 'REGION_NOT_FOUND')
      assertProblem(t, await call(app, 'DELETE', '/v1/regions/331081'), 404, 'REGION_NOT_FOUND')
      t.notOk(codesOf(await call(app, 'GET', '/v1/regions?parent=331000')).includes('331081'))
    })

    t.test('409 REGION_IN_USE with children, plans or values; the region stays', async (t) => {
      await createPlan(app, { regionCode: '331004', id: 'luqiao-14th-fyp' })
      const indicator = await createIndicator(app)
      const value = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '429004', indicatorCode: indicator.code, year: 2021, value: 95 })
      t.equal(value.statusCode, 201, value.body)

      for (const [code, held] of [['331000', /sub-region/], ['331004', /plan/], ['429004', /yearly values/]] as const) {
        const before = json(await call(app, 'GET', `/v1/regions/${code}`))
        const res = await call(app, 'DELETE', `/v1/regions/${code}`)
        const body = assertProblem(t, res, 409, 'REGION_IN_USE')
        t.match(body.detail, held)
        t.same(json(await call(app, 'GET', `/v1/regions/${code}`)), before, `${code} is still there`)
      }
    })
  })

  t.test('strict body validation', async (t) => {
    const valid = { code: '450000', name: '广西壮族自治区', level: 'province', parentCode: '100000' }

    t.test('unknown property', async (t) => {
      const res = await call(app, 'POST', '/v1/regions', { ...valid, population: 50_000_000 })
      const body = assertProblem(t, res, 400, 'VALIDATION_FAILED')
      t.match(body.errors, [{ field: '/body/population', code: 'additionalProperties' }])
    })

    t.test('no coercion of wrong types', async (t) => {
      const level = await call(app, 'POST', '/v1/regions', { ...valid, level: 1 })
      assertProblem(t, level, 400, 'VALIDATION_FAILED')
      t.ok(fields(level).includes('/body/level'))
      const name = await call(app, 'POST', '/v1/regions', { ...valid, name: 450000 })
      assertProblem(t, name, 400, 'VALIDATION_FAILED')
      t.same(fields(name), ['/body/name'])
      const code = await call(app, 'POST', '/v1/regions', { ...valid, code: 450000 })
      assertProblem(t, code, 400, 'VALIDATION_FAILED')
      t.ok(fields(code).includes('/body/code'))
      assertProblem(t, await call(app, 'POST', '/v1/regions', { ...valid, code: '45000' }), 400, 'VALIDATION_FAILED')
      assertProblem(t, await call(app, 'POST', '/v1/regions', { ...valid, name: '' }), 400, 'VALIDATION_FAILED')
      assertProblem(t, await call(app, 'POST', '/v1/regions', [valid]), 400, 'VALIDATION_FAILED')
    })

    t.test('missing required fields', async (t) => {
      const { name: _n, ...noName } = valid
      const res = await call(app, 'POST', '/v1/regions', noName)
      const body = assertProblem(t, res, 400, 'VALIDATION_FAILED')
      t.match(body.errors, [{ field: '/body/name', code: 'required' }])
      const { level: _l, code: _c, ...noLevelNoCode } = valid
      t.same(fields(await call(app, 'POST', '/v1/regions', noLevelNoCode)).sort(), ['/body/code', '/body/level'], 'every error is listed')
    })

    t.test('invalid JSON and wrong content types', async (t) => {
      const broken = await app.inject({ method: 'POST', url: '/v1/regions', headers: { 'content-type': 'application/json' }, payload: '{"code": "450000",' })
      assertProblem(t, broken, 400, 'INVALID_JSON')
      const empty = await app.inject({ method: 'POST', url: '/v1/regions', headers: { 'content-type': 'application/json' }, payload: '' })
      assertProblem(t, empty, 400, 'INVALID_JSON')
      const xml = await app.inject({ method: 'POST', url: '/v1/regions', headers: { 'content-type': 'application/xml' }, payload: '<region/>' })
      assertProblem(t, xml, 415, 'UNSUPPORTED_MEDIA_TYPE')
      const form = await app.inject({ method: 'PUT', url: '/v1/regions/450000', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=x' })
      assertProblem(t, form, 415, 'UNSUPPORTED_MEDIA_TYPE')
    })

    t.test('text/plain is an unsupported content type', async (t) => {
      const res = await app.inject({ method: 'POST', url: '/v1/regions', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(valid) })
      assertProblem(t, res, 415, 'UNSUPPORTED_MEDIA_TYPE')
    })

    t.test('nothing was created by the rejected requests', async (t) => {
      assertProblem(t, await call(app, 'GET', '/v1/regions/450000'), 404, 'REGION_NOT_FOUND')
    })
  })
})
