import net from 'node:net'
import t from 'tap'
import { build, json } from './helper.ts'

/** Holds /health/ready's database check until `release()`: a request kept in flight. */
function holdReadiness (app: Awaited<ReturnType<typeof build>>) {
  const ping = app.database.ping
  let release: () => void = () => {}
  app.database.ping = () => new Promise<void>((resolve) => { release = resolve })
  return () => {
    app.database.ping = ping
    release()
  }
}

t.test('while draining, a new request gets 503 problem+json and its connection is closed; one already inside completes', async (t) => {
  const app = await build(t)
  const release = holdReadiness(app)
  const inside = app.inject('/health/ready')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await app.inject('/v1/regions')).statusCode, 200, 'not draining yet: served')

  app.drain()
  const res = await app.inject('/v1/regions')
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.equal(json(res).code, 'SERVICE_UNAVAILABLE')
  t.equal(res.headers.connection, 'close', 'the client reconnects, to another instance or the next start')
  t.equal(res.headers['retry-after'], '1')
  t.equal(json(res).requestId, res.headers['x-request-id'])
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'with the security headers')
  const write = await app.inject({ method: 'POST', url: '/v1/regions', payload: { code: '100000', name: '中国', level: 'national' } })
  t.equal(write.statusCode, 503, 'writes too, before anything else runs')

  release()
  t.equal((await inside).statusCode, 200, 'the request inside when draining began completes')
})

t.test('closing the app drains: a request on a connection opened before gets the 503', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as net.AddressInfo
  const release = holdReadiness(app)
  const socket = net.connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', (chunk) => { received += chunk.toString('utf8') })
  const ended = new Promise((resolve) => socket.on('close', resolve))
  socket.write('GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n')
  await new Promise((resolve) => setTimeout(resolve, 100))

  const closing = app.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  // Pipelined on the open connection after the close began (the listening socket is closed).
  socket.write('GET /v1/regions HTTP/1.1\r\nHost: x\r\n\r\n')
  await new Promise((resolve) => setTimeout(resolve, 100))
  release()
  await ended
  await closing

  const answers = received.split(/(?=HTTP\/1\.1 )/)
  t.equal(answers.length, 2, received)
  t.match(answers[0], /^HTTP\/1\.1 200 /, 'the request inside completes')
  t.match(answers[1], /^HTTP\/1\.1 503 /, 'the one after the close began: 503')
  t.match(answers[1], /connection: close/i)
  t.match(answers[1], /retry-after: 1/i)
  t.match(answers[1], /"code":"SERVICE_UNAVAILABLE"/)
})
