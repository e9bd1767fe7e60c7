import { Writable } from 'node:stream'
import Fastify, { type FastifyServerOptions } from 'fastify'
import t, { type Test } from 'tap'
import { logRequest } from '../src/lib/request-log.ts'
import { buildOptions } from '../src/options.ts'

/** A server with the service's logger options whose only hook logs each request twice: our way and pino's. */
async function twoWays (t: Test, logger: Record<string, unknown> = {}) {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const options = buildOptions({ LOG_LEVEL: 'info', BODY_LIMIT: 1_048_576 })
  const server = Fastify({ ...options, logger: { ...(options.logger as object), ...logger, stream } } as FastifyServerOptions)
  server.addHook('onResponse', (request, reply, done) => {
    logRequest(request, reply)
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 1000) / 1000 }, 'request completed')
    done()
  })
  server.get('/v1/things/:id', async (request, reply) => reply.code((request.params as { id: string }).id === 'gone' ? 404 : 200).send({ ok: true }))
  server.get('/quiet', { logLevel: 'warn' }, async () => ({ ok: true }))
  await server.ready()
  t.teardown(() => server.close())
  return { server, lines }
}

// Two lines written within the same millisecond or one apart: the time is compared apart.
const withoutTime = (line: string) => line.replace(/,"time":\d+,/, ',"time":0,')

t.test('the request line is the line pino writes, byte for byte (but the time)', async (t) => {
  const { server, lines } = await twoWays(t)
  const requests = [
    { url: '/v1/things/1?region=331003&indicator=bench-001' },
    { url: '/v1/things/gone' },
    { url: '/v1/things/%22quoted%22?q=%5C%E4%B8%AD%E6%96%87&x="a\\b"&y=中文' },
    { url: '/v1/things/2', headers: { 'accept-version': '1.x', 'x-request-id': 'sync "job" \\ 7' } },
    { url: '/v1/nothing-here', remoteAddress: '10.1.2.3' },
    { method: 'POST' as const, url: '/v1/things/3' }
  ]
  for (const request of requests) {
    lines.length = 0
    await server.inject(request)
    t.equal(lines.length, 2, `${request.url}: two lines`)
    t.equal(withoutTime(lines[0]!), withoutTime(lines[1]!), `${request.url}: same line`)
    const line = JSON.parse(lines[0]!)
    t.equal(line.msg, 'request completed')
    t.ok(line.req.url.startsWith(request.url.slice(0, 8)), `${request.url}: the request's URL`)
  }
  t.match(JSON.parse(lines[0]!), { req: { method: 'POST' }, res: { statusCode: 404 } })
})

t.test('routes logged above info (probes, /metrics) get no request line', async (t) => {
  const { server, lines } = await twoWays(t)
  lines.length = 0
  await server.inject('/quiet')
  t.same(lines, [])
})

t.test('a logger configured beyond what the line reproduces gets pino\'s own path', async (t) => {
  const { server, lines } = await twoWays(t, { mixin: () => ({ zone: 'east' }), msgPrefix: '[api] ' })
  lines.length = 0
  await server.inject('/v1/things/1')
  t.equal(lines.length, 2)
  t.equal(withoutTime(lines[0]!), withoutTime(lines[1]!))
  t.match(JSON.parse(lines[0]!), { zone: 'east', msg: '[api] request completed' })
})
