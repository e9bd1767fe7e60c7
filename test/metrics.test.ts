import t from 'tap'
import { build, call, createIndicator, createRegions, json } from './helper.ts'

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const set = /\{(.*)\}/.exec(line)?.[1] ?? ''
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

t.test('GET /metrics: Prometheus text with request, import, database and process metrics', async (t) => {
  const app = await build(t)
  await createRegions(app)
  await createIndicator(app, { code: 'new-employment', unit: 'persons', aggregation: 'sum', min: 0, max: undefined })
  const row = (year: number, value: number) => ({ kind: 'actual', regionCode: '330683', indicatorCode: 'new-employment', year, value, status: 'final' })

  const first = await call(app, 'POST', '/v1/values/import', { values: [row(2021, 10), row(2022, 20), row(2023, 30)] }, { 'idempotency-key': 'metrics-1' })
  t.equal(first.statusCode, 200, first.body)
  const replay = await call(app, 'POST', '/v1/values/import', { values: [row(2021, 10), row(2022, 20), row(2023, 30)] }, { 'idempotency-key': 'metrics-1' })
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal((await call(app, 'POST', '/v1/values/import', { values: [row(2021, 11), row(2022, 20)] })).statusCode, 200)
  t.equal((await call(app, 'POST', '/v1/values/import?dryRun=true', { values: [row(2030, 1)] })).statusCode, 200)
  const refused = await call(app, 'POST', '/v1/values/import?mode=partial', { values: [row(2024, 40), { ...row(2025, 1), regionCode: '999999' }] })
  t.equal(refused.statusCode, 200)
  t.equal(json(refused).rejected, 1)
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/v1/regions/331003')).statusCode, 200)
  t.equal((await app.inject('/v1/regions/331099')).statusCode, 404)
  t.equal((await app.inject('/no/such/path')).statusCode, 404)

  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4; charset=utf-8/)
  const text = res.body
  t.match(text, /# TYPE http_request_duration_seconds histogram/)

  // Requests by route pattern (never the raw URL), method and status.
  t.equal(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/regions/:code', status_code: '200' }), 3)
  t.equal(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/regions/:code', status_code: '404' }), 1)
  t.equal(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/values/import', status_code: '200' }), 5)
  t.equal(sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }), 1, 'unknown paths share one series')
  t.notMatch(text, /331003|331099|no\/such/, 'no raw path in any label')
  t.ok(sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route: '/v1/regions/:code', status_code: '200', le: '+Inf' }) === 3)
  t.ok((sample(text, 'http_request_duration_seconds_sum', { method: 'GET', route: '/v1/regions/:code', status_code: '200' }) ?? -1) >= 0)

  // Import rows: 3 created, then 1 updated + 1 unchanged, then 1 created + 1 rejected;
  // the replay and the dry run are not counted.
  t.equal(sample(text, 'import_rows_total', { outcome: 'created' }), 4)
  t.equal(sample(text, 'import_rows_total', { outcome: 'updated' }), 1)
  t.equal(sample(text, 'import_rows_total', { outcome: 'unchanged' }), 1)
  t.equal(sample(text, 'import_rows_total', { outcome: 'rejected' }), 1)

  // Database: the pool on PostgreSQL, a flag on the embedded database.
  if (app.database.driver === 'pg') {
    t.equal(sample(text, 'db_embedded'), 0)
    t.ok((sample(text, 'db_pool_connections') ?? 0) >= 1, 'open pool connections')
    t.ok(sample(text, 'db_pool_idle_connections') !== undefined)
    t.equal(sample(text, 'db_pool_waiting_requests'), 0)
    t.equal(sample(text, 'db_pool_max_connections'), 8)
  } else {
    t.equal(sample(text, 'db_embedded'), 1)
    t.equal(sample(text, 'db_pool_connections'), undefined, 'no pool on the embedded database')
  }

  // Process metrics.
  t.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0)
  t.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined)

  // The scrape itself is counted on the next one.
  const again = await app.inject('/metrics')
  t.equal(sample(again.body, 'http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: '200' }), 1)
})

t.test('/metrics is public and documented', async (t) => {
  const app = await build(t, { auth: 'none', readsRequireToken: true })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200, 'no token needed, even when reads require one')
  const doc = json(await app.inject('/openapi.json'))
  const op = doc.paths['/metrics'].get
  t.equal(op.operationId, 'metrics')
  t.same(op.tags, ['health'])
  t.ok(op.summary)
  t.ok(op.description)
  t.ok(op.responses['200'].content['text/plain'])
  t.equal(op.security, undefined, 'no bearer token required')
})

t.test('two apps in one process keep their own request and import series', async (t) => {
  const a = await build(t)
  const b = await build(t)
  await a.inject('/health/live')
  await a.inject('/health/live')
  const textB = (await b.inject('/metrics')).body
  t.equal(sample(textB, 'http_request_duration_seconds_count', { route: '/health/live' }), undefined)
  const textA = (await a.inject('/metrics')).body
  t.equal(sample(textA, 'http_request_duration_seconds_count', { route: '/health/live' }), 2)
})
