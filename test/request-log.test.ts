import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import Fastify, { type FastifyServerOptions } from 'fastify'
import pino from 'pino'
import t, { type Test } from 'tap'
import { createLogDestination } from '../src/lib/log-destination.ts'
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

// Each on its own: the line must then come from pino (the same line as pino's own call).
const beyond: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['a mixin', { mixin: () => ({ zone: 'east' }) }, { zone: 'east', msg: 'request completed' }],
  ['formatters.log', { formatters: { log: (o: Record<string, unknown>) => ({ ...o, audited: true }) } }, { audited: true }],
  ['a message prefix', { msgPrefix: '[api] ' }, { msg: '[api] request completed' }]
]
for (const [what, config, expected] of beyond) {
  t.test(`a logger with ${what} gets pino's own path`, async (t) => {
    const { server, lines } = await twoWays(t, config)
    lines.length = 0
    await server.inject('/v1/things/1')
    t.equal(lines.length, 2)
    t.equal(withoutTime(lines[0]!), withoutTime(lines[1]!))
    t.match(JSON.parse(lines[0]!), expected)
  })
}

t.test('a destination that wants pino\'s metadata (pino.multistream) gets pino\'s own path', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  const server = Fastify({ ...buildOptions({ LOG_LEVEL: 'info', BODY_LIMIT: 1_048_576 }), logger: undefined, loggerInstance: pino({ level: 'info' }, pino.multistream([{ stream: sink }])) } as FastifyServerOptions)
  server.addHook('onResponse', (request, reply, done) => { logRequest(request, reply); done() })
  server.get('/v1/things/:id', async () => ({ ok: true }))
  t.teardown(() => server.close())
  await server.inject('/v1/things/1')
  t.equal(lines.length, 1)
  // multistream learns each line's level from pino's write; a line written past it would
  // reach no stream at all (its level unknown), or the wrong ones.
  t.match(JSON.parse(lines[0]!), { level: 30, msg: 'request completed', req: { url: '/v1/things/1' } })
})

t.test('through the service\'s log destination: held while serving, written at once otherwise', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'registry-request-log-'))
  const file = path.join(dir, 'out.log')
  const destination = createLogDestination({ fd: openSync(file, 'w'), flushMs: 60_000 })
  const options = buildOptions({ LOG_LEVEL: 'info', BODY_LIMIT: 1_048_576 })
  const server = Fastify({ ...options, logger: { ...(options.logger as object), ...destination.options } } as FastifyServerOptions)
  server.addHook('onResponse', (request, reply, done) => { logRequest(request, reply); done() })
  server.get('/v1/things/:id', async () => ({ ok: true }))
  t.teardown(async () => {
    await server.close()
    const closed = once(destination.options.stream, 'close')
    destination.options.stream.destroy()
    await closed
    rmSync(dir, { recursive: true, force: true })
  })
  const urls = () => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).req?.url as string | undefined).filter((u) => u !== undefined)

  await server.inject('/v1/things/1')
  t.same(urls(), ['/v1/things/1'], 'not serving (starting, stopping): written at once')
  destination.setServing(true)
  await server.inject('/v1/things/2')
  t.same(urls(), ['/v1/things/1'], 'serving: held')
  destination.options.stream.flushSync()
  t.same(urls(), ['/v1/things/1', '/v1/things/2'], 'written with the block')
})
