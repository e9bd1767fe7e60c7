import t from 'tap'
import { sql } from 'drizzle-orm'
import { serializeError } from '../src/logging.ts'
import { encodeCursor } from '../src/lib/pagination.ts'
import { build, call, createIndicator, createPlan, createRegions, json } from './helper.ts'

// Answers that help a client put things right: which value holds a key, which media types
// a route takes, why a rate is refused, and a 400 for every forged cursor.
const app = await build(t)
await createRegions(app)
await createIndicator(app, { code: 'coverage', unit: 'percent', aggregation: 'ratio', min: 0, max: 100 })
await createIndicator(app, { code: 'persons', unit: 'persons', aggregation: 'sum', min: 0, max: null })

t.test('409 VALUE_EXISTS names the value that holds the key, on POST and on PATCH', async (t) => {
  const value = { kind: 'actual', regionCode: '331003', indicatorCode: 'persons', year: 2022, value: 5 }
  const first = json(await call(app, 'POST', '/v1/values', value))
  const again = await call(app, 'POST', '/v1/values', { ...value, value: 6 })
  t.equal(again.statusCode, 409)
  t.match(json(again), { code: 'VALUE_EXISTS', existingId: first.id, detail: new RegExp(`Value ${first.id} `) })
  t.equal(again.headers.location, `/v1/values/${first.id}`)

  const other = json(await call(app, 'POST', '/v1/values', { ...value, year: 2023 }))
  const moved = await call(app, 'PATCH', `/v1/values/${other.id}`, { year: 2022 })
  t.equal(moved.statusCode, 409)
  t.match(json(moved), { code: 'VALUE_EXISTS', existingId: first.id })
  t.equal(moved.headers.location, `/v1/values/${first.id}`)
  t.equal(json(await app.inject(`/v1/values/${other.id}`)).year, 2023, 'nothing moved')
})

t.test('415 lists the media types the route takes', async (t) => {
  const post = await app.inject({ method: 'POST', url: '/v1/values', headers: { 'content-type': 'application/xml' }, payload: '<value/>' })
  t.equal(post.statusCode, 415)
  t.match(json(post), { code: 'UNSUPPORTED_MEDIA_TYPE', accept: ['application/json'], detail: /application\/json/ })
  t.equal(post.headers['accept-post'], 'application/json')
  const patch = await app.inject({ method: 'PATCH', url: '/v1/regions/331003', headers: { 'content-type': 'text/xml' }, payload: '<x/>' })
  t.equal(patch.statusCode, 415)
  t.same(json(patch).accept, ['application/json', 'application/merge-patch+json'])
  t.equal(patch.headers['accept-patch'], 'application/json, application/merge-patch+json')
})

t.test('a rate must be 100 x numerator / denominator, to the value\'s own decimals', async (t) => {
  const rate = (year: number, value: unknown, numerator: unknown, denominator: unknown) =>
    call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: 'coverage', year, value, numerator, denominator })
  const wrong = await rate(2020, 50, 950, 1000)
  t.equal(wrong.statusCode, 422)
  t.match(json(wrong), { code: 'INVALID_VALUE', errors: [{ field: '/body/value', code: 'ratio', message: /is not 100 × numerator \/ denominator = 95/ }] })
  t.equal((await rate(2020, 95, 950, 1000)).statusCode, 201, '95 for 950/1000')
  t.equal((await rate(2021, '95.0', 950, 1000)).statusCode, 201, '95.0: one decimal')
  t.equal((await rate(2022, '33.33', 1, 3)).statusCode, 201, '33.33 for 1/3, rounded to two decimals')
  t.equal((await rate(2023, '33.34', 1, 3)).statusCode, 422, 'but not 33.34')
  t.equal((await rate(2024, '66.67', 2, 3)).statusCode, 201, 'half away from zero')
  t.equal((await rate(2025, '98.5', null, null)).statusCode, 201, 'no rule without both parts')
  const count = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: 'persons', year: 2030, value: 50, numerator: 950, denominator: 1000 })
  t.equal(count.statusCode, 201, 'only ratio indicators are rates')
})

t.test('every forged cursor is 400 INVALID_CURSOR, never a database error', async (t) => {
  await createPlan(app)
  const forged: Array<[string, unknown[]]> = [
    ['/v1/values?cursor=', [1e10, 1]],
    ['/v1/values?cursor=', [2020, 2 ** 60]],
    ['/v1/values?cursor=', [2020.5, 1]],
    ['/v1/values?latest=true&cursor=', ['331003', 'a\u0000b', 1]],
    ['/v1/values?latest=true&cursor=', ['331003', 'x'.repeat(300), 1]],
    ['/v1/values?latest=true&cursor=', ['331003', 'persons', -1]],
    ['/v1/plans/huangyan-14th-fyp/targets?cursor=', [99999999999, 1]],
    ['/v1/regions?cursor=', ['\u0000']],
    ['/v1/changes?after=', ['99999999999999999999', 0, 0]],
    ['/v1/changes?after=', ['10', 1e12, 0]]
  ]
  for (const [url, key] of forged) {
    const res = await app.inject(url + encodeCursor(key as Array<string | number>))
    t.equal(res.statusCode, 400, `${url}${JSON.stringify(key)}`)
    t.equal(json(res).code, 'INVALID_CURSOR')
  }
})

t.test('a database error\'s log entry holds the driver\'s error, not the statement or its parameters', async (t) => {
  const err = await app.db.execute(sql`select * from no_such_table where secret = ${'s3cret-parameter'}`).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof Error)
  t.match(String((err as Error).message), /no_such_table/, 'the query wrapper carries the SQL text')
  const logged = serializeError(err as Error)
  t.notMatch(JSON.stringify(logged), /select|s3cret-parameter/i)
  t.match(logged, { cause: { code: '42P01', message: /no_such_table/ } })
})

t.test('problems stay English and stable, with a Chinese rendering when Accept-Language prefers it', async (t) => {
  const english = await app.inject('/v1/regions/331099')
  t.match(json(english), { code: 'REGION_NOT_FOUND', title: 'Region not found', detail: 'No region has code 331099.' })
  t.notOk('zh' in json(english), 'no Chinese member by default')
  t.match(english.headers.vary, /Accept-Language/)
  for (const language of ['zh-CN,zh;q=0.9,en;q=0.8', 'zh', 'fr, zh;q=0.5']) {
    const chinese = await app.inject({ url: '/v1/regions/331099', headers: { 'accept-language': language } })
    t.match(json(chinese), { code: 'REGION_NOT_FOUND', title: 'Region not found', detail: 'No region has code 331099.', zh: { title: '地区不存在', detail: /区划代码/ } }, language)
  }
  const preferEnglish = await app.inject({ url: '/v1/regions/331099', headers: { 'accept-language': 'en-US,en;q=0.9,zh;q=0.8' } })
  t.notOk('zh' in json(preferEnglish), 'English ranked first')
  const invalid = await call(app, 'POST', '/v1/values', { kind: 'actual' }, { 'accept-language': 'zh-CN' })
  t.match(json(invalid), { code: 'VALIDATION_FAILED', zh: { title: '请求格式不正确' } })
})
