import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import app from '../src/app.ts'
import { buildOptions } from '../src/options.ts'
import { defaultHardening } from '../src/plugins/hardening.ts'
import { freshDatabase } from './helper.ts'

t.test('one log line per request, with the request, the outcome and the request id; none for probes', async (t) => {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  const { database, drop } = await freshDatabase()
  const options = buildOptions({ LOG_LEVEL: 'info', BODY_LIMIT: 1_048_576 })
  const server = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await server.register(app, { database, hardening: { ...defaultHardening, maxEventLoopDelayMs: 0 } })
  await server.ready()
  t.teardown(async () => { await server.close(); await drop() })
  lines.length = 0

  const res = await server.inject({ url: '/v1/regions/331003?x=1', headers: { 'x-request-id': 'sync-job-7', authorization: 'Bearer irt_000000000000_secretsecretsecretsecretsecretsecretsecret0' } })
  await server.inject('/health/live')
  await server.inject('/metrics')
  const logged = lines.filter((l) => l.requestId !== undefined)
  t.equal(logged.length, 1, 'one line for the API request, none for the probe and /metrics')
  const line = logged[0]!
  t.equal(line.msg, 'request completed')
  t.equal(line.requestId, 'sync-job-7')
  t.same({ method: line.req?.method, url: line.req?.url, status: line.res?.statusCode }, { method: 'GET', url: '/v1/regions/331003?x=1', status: res.statusCode })
  t.type(line.responseTime, 'number')
  t.notMatch(JSON.stringify(lines), /secretsecret/, 'no token in the logs')
})
