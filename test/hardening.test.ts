import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { build, call, createIndicator, createRegions, json } from './helper.ts'

const app = await build(t)
await createRegions(app)
await createIndicator(app)

const isProblem = (t: Test, res: LightMyRequestResponse, status: number) => {
  t.equal(res.statusCode, status, res.body.slice(0, 200))
  t.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = json(res)
  t.equal(body.status, status)
  t.notMatch(res.body, /select |insert into|violates|constraint|relation "|at .*\.ts:|node_modules/i, 'no SQL or stack text')
}

t.test('hostile input gets 4xx problem+json and changes nothing', async (t) => {
  const value = { kind: 'actual', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2021, value: 90 }
  const cases: Array<[string, string, string]> = [
    ['NUL in a string', 'POST', JSON.stringify({ ...value, note: 'a\u0000b' })],
    ['lone surrogate', 'POST', JSON.stringify({ ...value, note: 'a\uD800b' })],
    ['lone surrogate as an escape', 'POST', '{"kind":"actual","regionCode":"331003","indicatorCode":"hardship-subsidy-coverage","year":2021,"value":90,"note":"\\udc00"}'],
    ['__proto__ key', 'POST', '{"kind":"actual","__proto__":{"admin":true},"regionCode":"331003","indicatorCode":"hardship-subsidy-coverage","year":2021,"value":90}'],
    ['constructor.prototype', 'POST', '{"kind":"actual","constructor":{"prototype":{"x":1}},"regionCode":"331003"}'],
    ['1e999 as a value', 'POST', '{"kind":"actual","regionCode":"331003","indicatorCode":"hardship-subsidy-coverage","year":2021,"value":1e999}'],
    ['1e999 as a year', 'POST', '{"kind":"actual","regionCode":"331003","indicatorCode":"hardship-subsidy-coverage","year":1e999,"value":1}'],
    ['NaN', 'POST', '{"kind":"actual","regionCode":"331003","indicatorCode":"hardship-subsidy-coverage","year":2021,"value":NaN}'],
    ['full-width digits in a code', 'POST', JSON.stringify({ ...value, regionCode: '３３１００３' })],
    ['SQL in a code', 'POST', JSON.stringify({ ...value, regionCode: "331003'; drop table regions; --" })],
    ['SQL in a slug', 'POST', JSON.stringify({ ...value, indicatorCode: "x' or '1'='1" })],
    ['a huge string', 'POST', JSON.stringify({ ...value, note: 'x'.repeat(100_000) })],
    ['a deep object', 'POST', JSON.stringify({ ...value, breakdown: JSON.parse('{"a":'.repeat(500) + '1' + '}'.repeat(500)) })]
  ]
  for (const [name, method, payload] of cases) {
    const res = await app.inject({ method: method as 'POST', url: '/v1/values', headers: { 'content-type': 'application/json' }, payload })
    t.test(name, async (t) => isProblem(t, res, res.statusCode >= 400 && res.statusCode < 500 ? res.statusCode : 400))
  }
  for (const url of ['/v1/regions?q=%00', '/v1/regions/３３１００３', "/v1/regions/331003'--", '/v1/values?region=1e999', '/v1/values?from=NaN', '/v1/regions?limit=100000']) {
    const res = await app.inject(url)
    t.test(`query ${url}`, async (t) => isProblem(t, res, 400))
  }
  t.same(json(await app.inject('/v1/values?breakdown=*')).items, [], 'nothing was written')
  t.equal(json(await app.inject('/v1/regions/331003')).name, '黄岩区')
})

t.test('security headers', async (t) => {
  const res = await app.inject('/v1/regions')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.ok(res.headers['strict-transport-security'])
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'")
  t.equal(res.headers['cross-origin-resource-policy'], 'same-origin')
  t.notOk(res.headers['access-control-allow-origin'], 'no CORS unless configured')
  // The headers OWASP's REST Security Cheat Sheet names for API responses; none of helmet's
  // headers for HTML pages.
  const expected = {
    'content-security-policy': "default-src 'none';frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY'
  }
  t.same(Object.fromEntries(Object.keys(expected).map((k) => [k, res.headers[k]])), expected)
  for (const html of ['referrer-policy', 'x-dns-prefetch-control', 'x-download-options', 'origin-agent-cluster', 'x-permitted-cross-domain-policies', 'x-xss-protection', 'cross-origin-opener-policy']) {
    t.notOk(res.headers[html], `no ${html}`)
  }
  // The Swagger UI's pages carry the UI's own policy (scripts and styles from the page's
  // origin), not the API's that allows nothing.
  const docs = await app.inject('/docs/')
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /script-src 'self'/)
  // On answers and on errors alike (a problem from a handler, a route that does not exist, a
  // body that does not parse).
  for (const other of [await app.inject('/v1/regions/999999'), await app.inject('/v1/nothing-here'), await app.inject({ method: 'POST', url: '/v1/values', headers: { 'content-type': 'application/json' }, payload: '{' })]) {
    t.ok(other.statusCode >= 400, `${other.statusCode} is an error`)
    t.same(Object.fromEntries(Object.keys(expected).map((k) => [k, other.headers[k]])), expected, `security headers on the ${other.statusCode}`)
    t.ok(other.headers['x-request-id'], `request id on the ${other.statusCode}`)
  }
})

t.test('rate limiting answers 429 with Retry-After; CORS when configured', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { default: app2 } = await import('../src/app.ts')
  const { buildOptions } = await import('../src/options.ts')
  const { freshDatabase } = await import('./helper.ts')
  const { database, drop } = await freshDatabase()
  const server = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
  await server.register(app2, {
    database,
    rateLimit: { max: 3, windowMs: 60_000, allow: [] },
    cors: { origins: ['https://dpf.zj.gov.cn'] },
    loadShedding: { maxEventLoopDelayMs: 0 }
  })
  t.teardown(async () => { await server.close(); await drop() })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await server.inject('/v1/regions')).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429])
  const limited = await server.inject('/v1/regions')
  isProblem(t, limited, 429)
  isProblem(t, await server.inject('/metrics'), 429) // as its OpenAPI entry says: allow-list the scraper
  t.equal(json(limited).code, 'TOO_MANY_REQUESTS')
  t.ok(Number(limited.headers['retry-after']) >= 1)

  const preflight = await server.inject({ method: 'OPTIONS', url: '/v1/values', headers: { origin: 'https://dpf.zj.gov.cn', 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers['access-control-allow-origin'], 'https://dpf.zj.gov.cn')
})

t.test('overload shedding: 503 problem+json with Retry-After while the event loop lags', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { default: app2 } = await import('../src/app.ts')
  const { buildOptions } = await import('../src/options.ts')
  const { freshDatabase } = await import('./helper.ts')
  const { database, drop } = await freshDatabase()
  const server = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
  // The embedded database never sheds (its work runs on this thread); fake a server driver.
  await server.register(app2, {
    database: { ...database, driver: 'pg' },
    rateLimit: { max: 0, windowMs: 60_000, allow: [] },
    loadShedding: { maxEventLoopDelayMs: 100 }
  })
  await server.ready()
  t.teardown(async () => { await server.close(); await drop() })
  // The start's own work (every route's schemas compiled as the app becomes ready) holds
  // the event loop like this; the sample that measured it sheds nothing.
  const started = Date.now() + 1500
  while (Date.now() < started) { /* block the event loop */ }
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await server.inject('/v1/regions')).statusCode, 200, 'no shedding for the lag of the start')
  // under-pressure measures the mean event-loop delay over each 1 s sample: keep the loop
  // blocked most of the time (250 ms at a stretch) until a sample reports the lag.
  let res = await server.inject('/v1/regions')
  for (const until = Date.now() + 8000; res.statusCode !== 503 && Date.now() < until;) {
    const stretch = Date.now() + 250
    while (Date.now() < stretch) { /* block the event loop */ }
    await new Promise((resolve) => setTimeout(resolve, 1))
    res = await server.inject('/v1/regions')
  }
  isProblem(t, res, 503)
  t.equal(json(res).code, 'SERVICE_UNAVAILABLE')
  t.equal(res.headers['retry-after'], '5')
  t.equal((await server.inject('/health/live')).statusCode, 200, 'liveness is never shed: the instance is busy, not dead')
  t.equal((await server.inject('/metrics')).statusCode, 200, 'metrics are never shed')
  t.equal((await server.inject('/health/ready')).statusCode, 503, 'readiness is shed: out of rotation while overloaded')
})

t.test('database errors the checks missed still become 4xx, never SQL', async (t) => {
  const res = await call(app, 'POST', '/v1/plans', { id: 'p-1', title: 'x', kind: 'five-year-plan', regionCode: '331003', startYear: 2021, endYear: 2025, documentNumber: 'a'.repeat(100) })
  t.equal(res.statusCode, 201)
  const dup = await call(app, 'POST', '/v1/plans', { id: 'p-2', title: 'x', kind: 'five-year-plan', regionCode: '331003', startYear: 2021, endYear: 2025, documentNumber: 'a'.repeat(100) })
  isProblem(t, dup, 409)
  t.equal(json(dup).code, 'DOCUMENT_NUMBER_TAKEN')
})

t.test('what the HTTP parser refuses is problem+json too: raw UTF-8 in a URL, oversized headers', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { buildOptions } = await import('../src/options.ts')
  const net = await import('node:net')
  // The handler is set by the shared options; no routes are needed to reach it.
  const server = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
  await server.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  const { port } = server.server.address() as { port: number }
  const raw = (request: Buffer) => new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(request))
    let answer = ''
    socket.on('data', (chunk) => { answer += chunk.toString('utf8') })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
  const cases: Array<[string, Buffer, number, string]> = [
    ['unencoded 黄岩 in the query', Buffer.concat([Buffer.from('GET /v1/regions?q='), Buffer.from('黄岩', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), 400, 'VALIDATION_FAILED'],
    ['headers over the limit', Buffer.from(`GET /v1/regions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'HEADERS_TOO_LARGE']
  ]
  for (const [name, request, status, code] of cases) {
    const answer = await raw(request)
    const [head = '', body = ''] = answer.split('\r\n\r\n')
    t.match(head, new RegExp(`^HTTP/1.1 ${status} `), name)
    t.match(head, /content-type: application\/problem\+json/i, name)
    const problem = JSON.parse(body)
    t.same({ status: problem.status, code: problem.code, instance: problem.instance }, { status, code, instance: '/v1/regions' }, name)
    t.notOk(problem.requestId, `${name}: no request id before there is a request`)
  }
})
