import t from 'tap'
import { build, collect, feedSettled, json, tokenFor } from './helper.ts'

// Access control: every role and scope against every write route and region relation.
const app = await build(t, { auth: 'none' })
const admin = await tokenFor(app, 'admin')
const reader = await tokenFor(app, 'reader')

const send = (token: string | null, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) => app.inject({
  method,
  url,
  headers: {
    ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json' } : {})
  },
  ...(body !== undefined ? { payload: JSON.stringify(body) } : {})
})

// The region relations of the editor's county 330683.
const relation = {
  own: '330683',
  descendant: '330683001',
  parent: '330600',
  sibling: '330681',
  otherProvince: '429004'
} as const
type Relation = keyof typeof relation
const inScope = (r: Relation) => r === 'own' || r === 'descendant'

for (const [code, name, level, parentCode] of [
  ['100000', '中国', 'national', null], ['330000', '浙江省', 'province', '100000'], ['330600', '绍兴市', 'prefecture', '330000'],
  ['330683', '嵊州市', 'county', '330600'], ['330681', '诸暨市', 'county', '330600'], ['330683001', '剡湖街道', 'township', '330683'],
  ['420000', '湖北省', 'province', '100000'], ['429004', '仙桃市', 'county', '420000']
] as const) {
  const res = await send(admin, 'POST', '/v1/regions', { code, name, level, parentCode })
  if (res.statusCode !== 201) throw new Error(res.body)
}
const editor = await tokenFor(app, 'editor', '330683') // 嵊州市
await send(admin, 'POST', '/v1/indicators', { code: 'new-employment', name: '新增残疾人就业', domain: 'employment', unit: 'persons', aggregation: 'sum', direction: 'increase', min: 0 })

t.test('no token, a garbage token, a revoked token: 401 with a challenge', async (t) => {
  const anonymous = await send(null, 'POST', '/v1/values', { kind: 'actual', regionCode: '330683', indicatorCode: 'new-employment', year: 2021, value: 1 })
  t.equal(anonymous.statusCode, 401)
  t.equal(json(anonymous).code, 'UNAUTHENTICATED')
  t.match(anonymous.headers['www-authenticate'], /^Bearer realm="indicator-registry"$/)
  t.equal(anonymous.headers['content-type'], 'application/problem+json; charset=utf-8')

  for (const bad of ['nonsense', `irt_0123456789ab_${'A'.repeat(43)}`, admin.slice(0, -1) + (admin.endsWith('A') ? 'B' : 'A')]) {
    const res = await send(bad, 'GET', '/v1/regions')
    t.equal(res.statusCode, 401, 'a bad token is refused even on public reads')
    t.match(res.headers['www-authenticate'], /error="invalid_token"/)
  }
  const scheme = await app.inject({ url: '/v1/regions', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })
  t.equal(scheme.statusCode, 401)

  const shortLived = await tokenFor(app, 'admin')
  const id = shortLived.split('_')[1]
  t.equal((await send(admin, 'DELETE', `/v1/tokens/${id}`)).statusCode, 204)
  t.equal((await send(shortLived, 'GET', '/v1/tokens')).statusCode, 401, 'revoked: refused at once')
  t.equal((await send(admin, 'DELETE', '/v1/tokens/ffffffffffff')).statusCode, 404)
})

t.test('reads are public by default; READS_REQUIRE_TOKEN makes them need any token', async (t) => {
  t.equal((await send(null, 'GET', '/v1/regions')).statusCode, 200)
  t.equal((await send(null, 'GET', '/health/ready')).statusCode, 200)
  const closed = await build(t, { auth: 'none', readsRequireToken: true })
  const closedReader = await tokenFor(closed, 'reader')
  t.equal((await closed.inject('/v1/regions')).statusCode, 401)
  t.equal((await closed.inject({ url: '/v1/regions', headers: { authorization: `Bearer ${closedReader}` } })).statusCode, 200)
  t.equal((await closed.inject('/health/live')).statusCode, 200, 'probes stay public')
  t.equal((await closed.inject('/openapi.json')).statusCode, 200, 'the API description stays public')
})

t.test('admin-only routes: regions, indicators, tokens', async (t) => {
  const routes: Array<[string, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string, unknown?]> = [
    ['create region', 'POST', '/v1/regions', { code: '330682', name: '上虞', level: 'county', parentCode: '330600' }],
    ['put region', 'PUT', '/v1/regions/330683', { name: '嵊州市', level: 'county', parentCode: '330600' }],
    ['patch region', 'PATCH', '/v1/regions/330683001', { nameEn: 'Shanhu' }],
    ['delete region', 'DELETE', '/v1/regions/330681'],
    ['create indicator', 'POST', '/v1/indicators', { code: 'x-rate', name: 'x', domain: 'care', unit: 'percent', aggregation: 'ratio', direction: 'increase' }],
    ['put indicator', 'PUT', '/v1/indicators/new-employment', { name: '新增', domain: 'employment', unit: 'persons', aggregation: 'sum', direction: 'increase' }],
    ['patch indicator', 'PATCH', '/v1/indicators/new-employment', { nameEn: 'x' }],
    ['delete indicator', 'DELETE', '/v1/indicators/new-employment'],
    ['list tokens', 'GET', '/v1/tokens'],
    ['create token', 'POST', '/v1/tokens', { name: 'x', role: 'reader' }],
    ['revoke token', 'DELETE', `/v1/tokens/${editor.split('_')[1]}`]
  ]
  for (const [name, method, url, body] of routes) {
    t.equal((await send(null, method, url, body)).statusCode, 401, `${name}: anonymous`)
    t.equal((await send(reader, method, url, body)).statusCode, 403, `${name}: reader`)
    const byEditor = await send(editor, method, url, body)
    t.equal(byEditor.statusCode, 403, `${name}: editor`)
    t.equal(json(byEditor).code, 'FORBIDDEN')
  }
  t.match(json(await send(admin, 'GET', '/v1/regions/330683')), { name: '嵊州市', nameEn: null }, 'nothing changed')
  t.equal((await send(admin, 'GET', '/v1/indicators/new-employment')).statusCode, 200)
  t.equal((await send(editor, 'GET', '/v1/values')).statusCode, 200, 'the editor token still works')
})

t.test('tokens: created once with their secret, listed without it', async (t) => {
  const created = await send(admin, 'POST', '/v1/tokens', { name: '诸暨 sync', role: 'editor', regionCode: '330681' })
  t.equal(created.statusCode, 201)
  const body = json(created)
  t.match(body, { role: 'editor', regionCode: '330681', revokedAt: null })
  t.match(body.token, /^irt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
  t.equal(created.headers.location, `/v1/tokens/${body.id}`)
  t.equal((await send(null, 'GET', '/v1/tokens')).statusCode, 401, 'the list needs an admin token')
  const list = json(await send(admin, 'GET', '/v1/tokens?limit=1000'))
  t.ok(list.items.some((i: { id: string }) => i.id === body.id))
  t.notMatch(JSON.stringify(list), /irt_|secret/i, 'no secret or hash in the list')
  t.equal((await send(admin, 'POST', '/v1/tokens', { name: 'x', role: 'editor' })).statusCode, 422, 'an editor needs a region')
  t.equal((await send(admin, 'POST', '/v1/tokens', { name: 'x', role: 'admin', regionCode: '330683' })).statusCode, 422)
  t.equal((await send(admin, 'POST', '/v1/tokens', { name: 'x', role: 'root' })).statusCode, 400)
})

t.test('editor writes: plans, targets, values, imports, by region relation', async (t) => {
  for (const r of Object.keys(relation) as Relation[]) {
    const code = relation[r]
    const expect = inScope(r) ? 'allowed' : 'refused'
    const plan = { title: `计划 ${code}`, kind: 'annual-work-plan', regionCode: code, startYear: 2024, endYear: 2024 }
    const createPlan = await send(editor, 'POST', '/v1/plans', { id: `plan-${code}`, ...plan })
    t.equal(createPlan.statusCode, inScope(r) ? 201 : 403, `create plan in ${r}: ${expect}`)
    if (!inScope(r)) t.equal(json(createPlan).code, 'OUTSIDE_SCOPE')
    // admin creates the plan where the editor could not, for the other writes
    if (!inScope(r)) t.equal((await send(admin, 'POST', '/v1/plans', { id: `plan-${code}`, ...plan })).statusCode, 201)
    t.equal((await send(editor, 'PATCH', `/v1/plans/plan-${code}`, { titleEn: 'x' })).statusCode, inScope(r) ? 200 : 403, `patch plan in ${r}`)
    t.equal((await send(editor, 'PUT', `/v1/plans/plan-${code}`, plan)).statusCode, inScope(r) ? 200 : 403, `put plan in ${r}`)
    const targets = { targets: [{ regionCode: code, indicatorCode: 'new-employment', year: 2024, value: 10 }] }
    t.equal((await send(editor, 'PUT', `/v1/plans/plan-${code}/targets`, targets)).statusCode, inScope(r) ? 200 : 403, `target table in ${r}`)

    const value = { kind: 'actual', regionCode: code, indicatorCode: 'new-employment', year: 2024, value: 5 }
    const created = await send(editor, 'POST', '/v1/values', value)
    t.equal(created.statusCode, inScope(r) ? 201 : 403, `create value in ${r}`)
    const id = inScope(r) ? json(created).id : json(await send(admin, 'POST', '/v1/values', value)).id
    t.equal((await send(editor, 'PATCH', `/v1/values/${id}`, { value: 6 })).statusCode, inScope(r) ? 200 : 403, `patch value in ${r}`)
    t.equal((await send(editor, 'DELETE', `/v1/values/${id}`)).statusCode, inScope(r) ? 204 : 403, `delete value in ${r}`)
    t.equal((await send(admin, 'GET', `/v1/values/${id}`)).statusCode, inScope(r) ? 404 : 200, `the ${r} value is ${inScope(r) ? 'gone' : 'still there'}`)
    t.equal((await send(editor, 'DELETE', `/v1/plans/plan-${code}`)).statusCode, inScope(r) ? 204 : 403, `delete plan in ${r}`)

    t.equal((await send(reader, 'POST', '/v1/values', value)).statusCode, 403, `reader cannot write in ${r}`)
    t.equal((await send(admin, 'POST', '/v1/values', { ...value, year: 2023 })).statusCode, 201, `admin writes in ${r}`)
  }
})

t.test('a PATCH may not move a value out of scope, nor into it from outside', async (t) => {
  const own = json(await send(editor, 'POST', '/v1/values', { kind: 'actual', regionCode: '330683', indicatorCode: 'new-employment', year: 2030, value: 1 }))
  const moved = await send(editor, 'PATCH', `/v1/values/${own.id}`, { regionCode: '330681' })
  t.equal(moved.statusCode, 403)
  t.match(json(await send(admin, 'GET', `/v1/values/${own.id}`)), { regionCode: '330683', revision: 1 }, 'unchanged')
  const foreign = json(await send(admin, 'POST', '/v1/values', { kind: 'actual', regionCode: '330681', indicatorCode: 'new-employment', year: 2030, value: 1 }))
  t.equal((await send(editor, 'PATCH', `/v1/values/${foreign.id}`, { regionCode: '330683' })).statusCode, 403)
})

t.test('bulk import: one foreign row refuses the whole batch, in either mode', async (t) => {
  const rows = (codes: string[]) => ({ values: codes.map((c, i) => ({ kind: 'actual', regionCode: c, indicatorCode: 'new-employment', year: 2040 + i, value: i })) })
  for (const mode of ['atomic', 'partial']) {
    const res = await send(editor, 'POST', `/v1/values/import?mode=${mode}`, rows(['330683', '330683001', '330681', '330683']))
    t.equal(res.statusCode, 403, mode)
    t.equal(json(res).code, 'OUTSIDE_SCOPE')
  }
  t.equal((await collect(app, '/v1/values?from=2040&to=2050&includeDescendants=true&region=100000')).length, 0, 'nothing written')
  const ok = await send(editor, 'POST', '/v1/values/import', rows(['330683', '330683001']))
  t.equal(ok.statusCode, 200)
  t.match(json(ok), { created: 2 })
})

t.test('a target belongs to its plan: writing it needs scope over the plan\'s region, on every path', async (t) => {
  // A prefecture's plan; the county editor may not change its targets, not even for its own county.
  t.equal((await send(admin, 'POST', '/v1/plans', { id: 'shaoxing-plan', title: '绍兴市计划', kind: 'annual-work-plan', regionCode: '330600', startYear: 2024, endYear: 2024 })).statusCode, 201)
  const target = { kind: 'target', planId: 'shaoxing-plan', regionCode: '330683', indicatorCode: 'new-employment', year: 2024, value: 10 }
  const posted = await send(editor, 'POST', '/v1/values', target)
  t.equal(posted.statusCode, 403, 'POST')
  t.match(json(posted), { code: 'OUTSIDE_SCOPE', errors: [{ field: '/body/planId', code: 'outside-scope' }] })
  const stored = json(await send(admin, 'POST', '/v1/values', target))
  t.equal((await send(editor, 'PATCH', `/v1/values/${stored.id}`, { value: 11 })).statusCode, 403, 'PATCH')
  t.equal((await send(editor, 'DELETE', `/v1/values/${stored.id}`)).statusCode, 403, 'DELETE')
  const imported = await send(editor, 'POST', '/v1/values/import?mode=partial', { values: [{ ...target, year: 2024, value: 12 }] })
  t.equal(imported.statusCode, 403, 'import')
  t.equal((await send(editor, 'PUT', '/v1/plans/shaoxing-plan/targets', { targets: [{ regionCode: '330683', indicatorCode: 'new-employment', year: 2024, value: 12 }] })).statusCode, 403, 'the target table, as before')
  t.match(json(await send(admin, 'GET', `/v1/values/${stored.id}`)), { value: '10', revision: 1 }, 'nothing changed')
  // The county's own plan stays the editor's to write.
  t.equal((await send(admin, 'POST', '/v1/plans', { id: 'shengzhou-plan', title: '嵊州市计划', kind: 'annual-work-plan', regionCode: '330683', startYear: 2024, endYear: 2024 })).statusCode, 201)
  t.equal((await send(editor, 'POST', '/v1/values', { ...target, planId: 'shengzhou-plan' })).statusCode, 201)
})

t.test('an import refused for scope lists the rows outside the token\'s region', async (t) => {
  const rows = ['330683', '330681', '330683001', '429004'].map((c, i) => ({ kind: 'actual', regionCode: c, indicatorCode: 'new-employment', year: 2070 + i, value: i }))
  const res = await send(editor, 'POST', '/v1/values/import', { values: rows })
  t.equal(res.statusCode, 403)
  const body = json(res)
  t.same(body.errors.map((e: { row: number }) => e.row), [2, 4])
  t.match(body.errors[0], { field: '/regionCode', code: 'outside-scope', message: /330681/ })
  t.match(body.detail, /rows 2, 4/)
})

t.test('history records the token that made each change', async (t) => {
  const editorId = editor.split('_')[1]
  const adminId = admin.split('_')[1]
  const v = json(await send(editor, 'POST', '/v1/values', { kind: 'actual', regionCode: '330683001', indicatorCode: 'new-employment', year: 2060, value: 1 }))
  await send(admin, 'PATCH', `/v1/values/${v.id}`, { value: 2 })
  const history = json(await send(null, 'GET', `/v1/values/${v.id}/history`))
  t.same(history.items.map((e: { actor: string }) => e.actor), [editorId, adminId])
  await feedSettled(app)
  const feed = json(await send(null, 'GET', '/v1/changes?limit=1000')).items
  t.ok(feed.some((c: { key: string, actor: string }) => c.key === String(v.id) && c.actor === editorId))
})
