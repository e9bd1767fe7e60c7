import t from 'tap'
import { build, json } from './helper.ts'

t.test('liveness and readiness', async (t) => {
  const app = await build(t)
  const live = await app.inject('/health/live')
  t.equal(live.statusCode, 200)
  t.same(json(live), { status: 'ok' })
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.equal(json(ready).status, 'ok')
  t.ok(['pg', 'pglite'].includes(json(ready).database))
})

t.test('database unreachable: readiness and requests answer 503 problem+json, nothing leaks', async (t) => {
  const { default: Fastify } = await import('fastify')
  const { default: pino } = await import('pino')
  const { default: app } = await import('../src/app.ts')
  const { openDatabase } = await import('../src/db/client.ts')
  const { buildOptions } = await import('../src/options.ts')
  // Nothing listens on port 1: every connection attempt is refused.
  const database = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '', logger: pino({ level: 'silent' }) })
  const server = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
  // No load shedding: a busy test machine must not turn the 503 under test into SERVICE_UNAVAILABLE.
  await server.register(app, { database, loadShedding: { maxEventLoopDelayMs: 0 } })
  t.teardown(() => server.close())

  const live = await server.inject('/health/live')
  t.equal(live.statusCode, 200, 'liveness does not depend on the database')
  const ready = await server.inject('/health/ready')
  t.equal(ready.statusCode, 503)
  t.equal(ready.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(json(ready).code, 'DATABASE_UNAVAILABLE')
  t.ok(ready.headers['retry-after'])

  const read = await server.inject('/v1/regions')
  t.equal(read.statusCode, 503)
  t.equal(json(read).code, 'DATABASE_UNAVAILABLE')
  t.equal(read.headers['cache-control'], 'no-store', 'a failed read is not kept by any cache')
  t.equal(read.headers.etag, undefined)
  // A cached route asks the data version first: when that fails, a client's copy is not
  // confirmed (no 304), whatever tag it sends.
  const conditional = await server.inject({ url: '/v1/regions', headers: { 'if-none-match': '*' } })
  t.equal(conditional.statusCode, 503)
  t.equal(json(conditional).code, 'DATABASE_UNAVAILABLE')
  const anonymous = await server.inject({ method: 'POST', url: '/v1/regions', payload: { code: '100000', name: '中国', level: 'national' } })
  t.equal(anonymous.statusCode, 401, 'no token: refused before the database is asked')
  // A well-formed token cannot be checked while the database is away: 503, not 401.
  const write = await server.inject({
    method: 'POST',
    url: '/v1/regions',
    headers: { authorization: `Bearer irt_0123456789ab_${'A'.repeat(43)}` },
    payload: { code: '100000', name: '中国', level: 'national' }
  })
  t.equal(write.statusCode, 503)
  t.equal(json(write).code, 'DATABASE_UNAVAILABLE')
  // A read is public, but a token sent with it is still checked: 503 as well.
  const readWithToken = await server.inject({ url: '/v1/regions', headers: { authorization: `Bearer irt_0123456789ab_${'A'.repeat(43)}` } })
  t.equal(readWithToken.statusCode, 503)
  t.equal(json(readWithToken).code, 'DATABASE_UNAVAILABLE')
  for (const res of [ready, read, write, readWithToken]) {
    t.notMatch(res.body, /ECONNREFUSED|127\.0\.0\.1|select|insert|regions\b.*from|at .*\.ts/i, 'no driver, SQL or stack text')
  }
})

t.test('a database that does not answer (frozen): readiness answers 503 after 2 s instead of hanging', async (t) => {
  const app = await build(t)
  const ping = app.database.ping
  let calls = 0
  let release: () => void = () => {}
  app.database.ping = () => {
    calls++
    return new Promise<void>((resolve) => { release = resolve })
  }
  t.teardown(() => { app.database.ping = ping })
  const started = Date.now()
  const [a, b] = await Promise.all([app.inject('/health/ready'), app.inject('/health/ready')])
  const took = Date.now() - started
  for (const res of [a, b]) {
    t.equal(res.statusCode, 503)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(json(res).code, 'DATABASE_UNAVAILABLE')
  }
  t.ok(took >= 1900 && took < 5000, `answered after ${took} ms`)
  t.equal(calls, 1, 'probes waiting on the same frozen database share one check')
  release()
  app.database.ping = ping
  t.equal((await app.inject('/health/ready')).statusCode, 200, 'back to 200 once it answers')
})
