import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import app from '../src/app.ts'
import { buildOptions } from '../src/options.ts'
import { freshDatabase } from './helper.ts'

/** The service as production builds it, logging at info into `lines`. */
async function loggingService (t: Test) {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const { database, drop } = await freshDatabase()
  const server = Fastify(buildOptions({ LOG_LEVEL: 'info', BODY_LIMIT: 1_048_576 }, stream))
  await server.register(app, { database, loadShedding: { maxEventLoopDelayMs: 0 } })
  await server.ready()
  t.teardown(async () => { await server.close(); await drop() })
  lines.length = 0
  return { server, database, lines }
}

t.test('one log line per request, with the request, the outcome and the request id; none for probes', async (t) => {
  const { server, lines } = await loggingService(t)
  const res = await server.inject({ url: '/v1/regions/331003?x=1', headers: { 'x-request-id': 'sync-job-7', authorization: 'Bearer irt_000000000000_secretsecretsecretsecretsecretsecretsecret0' } })
  await server.inject('/health/live')
  await server.inject('/health/ready')
  await server.inject('/metrics')
  const logged = lines.filter((l) => l.requestId !== undefined)
  t.equal(logged.length, 1, 'one line for the API request, none for the probes and /metrics')
  const line = logged[0]!
  t.equal(line.msg, 'request completed')
  t.equal(line.level, 30)
  t.equal(line.requestId, 'sync-job-7')
  t.same({ method: line.req?.method, url: line.req?.url, status: line.res?.statusCode }, { method: 'GET', url: '/v1/regions/331003?x=1', status: res.statusCode })
  t.type(line.responseTime, 'number')
  t.notMatch(JSON.stringify(lines), /secretsecret|authorization/i, 'no token and no header in the logs')

  lines.length = 0
  const made = await server.inject('/v1/regions')
  t.equal(lines.length, 1)
  t.equal(lines[0]!.requestId, made.headers['x-request-id'], 'without X-Request-Id: the id the service made, as answered')
})

t.test('a failed query is logged with what the database said, never the SQL or its parameters', async (t) => {
  const { server, database, lines } = await loggingService(t)
  // A table the service expects is gone: the query fails with an error no mapping knows.
  await database.db.execute(sql.raw('alter table regions rename to regions_elsewhere'))
  const res = await server.inject('/v1/regions/331003')
  t.equal(res.statusCode, 500)
  const failed = lines.find((l) => l.msg === 'request failed')
  t.ok(failed, 'the 500 is logged')
  t.equal(failed?.level, 50)
  t.equal(failed?.err?.cause?.code, '42P01', 'with the SQLSTATE (undefined table)')
  t.match(failed?.err?.cause?.message, /regions/, 'and the database\'s own message')
  t.match(failed?.err?.stack, /^ {4}at /, 'and where the query was run from')
  const text = JSON.stringify(lines)
  t.notMatch(text, /select |from "|params:/i, 'no SQL text and no parameter in any line')
  t.notMatch(res.body, /select |regions_elsewhere|42P01/i, 'nor in the answer')
})
