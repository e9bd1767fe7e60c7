// Read-your-writes without a replica (src/plugins/read-routing.ts): every write answer
// carries its Commit-Position, a read takes it back (a malformed one is a 400) and, with no
// replica to choose, is answered by the primary. On PostgreSQL also replicas that cannot
// serve: one that does not answer and one that is not a standby. Real replicas:
// test/replicas.test.ts.
import Fastify from 'fastify'
import t from 'tap'
import app from '../src/app.ts'
import { formatLsn, parseLsn } from '../src/db/wal-position.ts'
import { buildOptions } from '../src/options.ts'
import { build, call, createIndicator, createRegions, freshDatabase, json } from './helper.ts'

const onPostgres = process.env.DATABASE_URL ? false : 'needs PostgreSQL (DATABASE_URL)'
const position = (res: { headers: Record<string, unknown> }) => res.headers['commit-position'] as string | undefined
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

t.test('a WAL position is read and written as PostgreSQL writes it', async (t) => {
  t.equal(parseLsn('16/B374D848'), (0x16n << 32n) | 0xB374D848n)
  t.equal(parseLsn('0/0'), 0n)
  t.equal(formatLsn(parseLsn('16/b374d848')!), '16/B374D848')
  t.equal(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF')!), 'FFFFFFFF/FFFFFFFF')
  for (const bad of ['', '16', '16/', '/1', '1/2/3', 'G/0', '123456789/0', '0/123456789', '-1/0', '1 /0', '0x1/0']) t.equal(parseLsn(bad), undefined, bad)
})

t.test('every write answer carries the position of its commit; reads send it back', async (t) => {
  const server = await build(t)
  await createRegions(server, [{ code: '100000', name: '中华人民共和国', level: 'national' }])
  const created = await call(server, 'POST', '/v1/regions', { code: '330000', name: '浙江省', level: 'province', parentCode: '100000' })
  t.equal(created.statusCode, 201)
  const first = position(created)
  t.match(first, /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/, '201 carries it')

  const patched = await call(server, 'PATCH', '/v1/regions/330000', { nameEn: 'Zhejiang Province' })
  t.equal(patched.statusCode, 200)
  t.ok(parseLsn(position(patched)!)! > parseLsn(first!)!, 'a later commit has a later position')

  const put = await call(server, 'PUT', '/v1/regions/330000', { name: '浙江省', nameEn: 'Zhejiang', level: 'province', parentCode: '100000' })
  t.equal(put.statusCode, 200)
  t.ok(position(put))

  // Conflicts name stored state: their answers carry the position too.
  const taken = await call(server, 'POST', '/v1/regions', { code: '330000', name: '浙江省', level: 'province', parentCode: '100000' })
  t.equal(taken.statusCode, 409)
  t.ok(position(taken), '409 carries it')
  const stale = await call(server, 'PATCH', '/v1/regions/330000', { nameEn: 'x' }, { 'if-match': '"1"' })
  t.equal(stale.statusCode, 412)
  t.ok(position(stale), '412 carries it')
  // A refused request changed nothing and says nothing of stored state.
  const invalid = await call(server, 'POST', '/v1/regions', { code: 'nope' })
  t.equal(invalid.statusCode, 400)
  t.equal(position(invalid), undefined, '400 does not')

  await createIndicator(server, { code: 'new-employment', unit: 'persons', aggregation: 'sum', min: 0, max: undefined })
  const imported = await call(server, 'POST', '/v1/values/import', { values: [{ kind: 'actual', regionCode: '330000', indicatorCode: 'new-employment', year: 2024, value: 85 }] })
  t.equal(imported.statusCode, 200)
  t.ok(position(imported), 'a bulk import')
  const token = await call(server, 'POST', '/v1/tokens', { name: 'sync', role: 'reader' })
  t.equal(token.statusCode, 201)
  t.ok(position(token), 'a token')
  const revoked = await call(server, 'DELETE', `/v1/tokens/${json(token).id as string}`)
  t.equal(revoked.statusCode, 204)
  t.ok(position(revoked), 'a 204')
  const deleted = await call(server, 'DELETE', '/v1/regions/330000')
  t.equal(deleted.statusCode, 409, 'the region holds a value')
  const last = position(deleted)!

  // Without replicas the primary answers every read, whatever the position.
  for (const sent of [last, 'FFFFFFFF/FFFFFFFF', '0/0']) {
    const read = await server.inject({ url: '/v1/regions/330000', headers: { 'commit-position': sent } })
    t.equal(read.statusCode, 200, sent)
    t.equal(read.headers['served-by'], 'primary')
    t.equal(json(read).nameEn, 'Zhejiang')
  }
  const head = await server.inject({ method: 'HEAD', url: '/v1/regions', headers: { 'commit-position': last } })
  t.equal(head.statusCode, 200)
  t.equal(head.headers['served-by'], 'primary')
  t.equal((await server.inject('/v1/changes')).headers['served-by'], 'primary', 'without the header too')
  t.equal((await server.inject('/health/ready')).headers['served-by'], undefined, 'only API reads say who answered')
  t.equal(position(await server.inject('/v1/regions')), undefined, 'reads carry no position')
})

t.test('a malformed Commit-Position on a read is a 400 problem naming the header; writes and probes ignore it', async (t) => {
  const server = await build(t)
  for (const sent of ['abc', '1/2/3', '0/G', '123456789/0', '16/B374D848, 0/1']) {
    const res = await server.inject({ url: '/v1/regions', headers: { 'commit-position': sent } })
    t.equal(res.statusCode, 400, sent)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(json(res).code, 'VALIDATION_FAILED')
    t.same(json(res).errors.map((e: { field: string }) => e.field), ['/header/commit-position'])
  }
  const write = await call(server, 'POST', '/v1/regions', { code: '100000', name: '中华人民共和国', level: 'national' }, { 'commit-position': 'abc' })
  t.equal(write.statusCode, 201, 'a write goes to the primary anyway')
  t.equal((await server.inject({ url: '/health/ready', headers: { 'commit-position': 'abc' } })).statusCode, 200)
})

t.test('without replicas readiness and metrics name none', async (t) => {
  const server = await build(t)
  const ready = await server.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.notOk('replicas' in json(ready))
  t.notMatch((await server.inject('/metrics')).body, /db_replica_|db_reads_total/)
})

t.test('CORS lets browsers send the position and read both headers', async (t) => {
  const { database, drop } = await freshDatabase()
  const server = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
  await server.register(app, { database, cors: { origins: ['https://dpf.zj.gov.cn'] }, loadShedding: { maxEventLoopDelayMs: 0 } })
  t.teardown(async () => { await server.close(); await drop() })
  const origin = 'https://dpf.zj.gov.cn'
  const preflight = await server.inject({ method: 'OPTIONS', url: '/v1/regions', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'commit-position' } })
  t.match(preflight.headers['access-control-allow-headers'], /commit-position/)
  const read = await server.inject({ url: '/v1/regions', headers: { origin } })
  t.match(read.headers['access-control-expose-headers'], /commit-position/)
  t.match(read.headers['access-control-expose-headers'], /served-by/)
})

/** Readiness once `check` holds of its replicas (the monitor runs every 100 ms here). */
async function readyWhen (server: Awaited<ReturnType<typeof build>>, check: (replicas: any[]) => boolean) {
  for (let i = 0; ; i++) {
    const ready = await server.inject('/health/ready')
    if (ready.statusCode === 200 && check(json(ready).replicas)) return json(ready)
    if (i > 100) throw new Error(`readiness never showed it: ${ready.body}`)
    await sleep(50)
  }
}

const replicaOptions = (urls: string[]) => ({ urls, poolMax: 2, maxLagMs: 1000, maxLagBytes: 0, checkIntervalMs: 100 })

t.test('a replica that does not answer is skipped: reads go to the primary, readiness and metrics say so', { skip: onPostgres }, async (t) => {
  // Nothing listens on port 1: every connection to this "replica" is refused.
  const server = await build(t, { replicas: () => replicaOptions(['postgres://postgres@127.0.0.1:1/none']) })
  await createRegions(server, [{ code: '100000', name: '中华人民共和国', level: 'national' }])
  const ready = await readyWhen(server, (r) => r[0].status === 'down')
  t.match(ready, { status: 'ok', database: 'pg', replicas: [{ name: 'replica-1', status: 'down', up: false, usable: false }] }, 'ready all the same')
  for (let i = 0; i < 5; i++) {
    const read = await server.inject('/v1/regions/100000')
    t.equal(read.statusCode, 200)
    t.equal(read.headers['served-by'], 'primary')
  }
  const metrics = (await server.inject('/metrics')).body
  t.match(metrics, /^db_replica_up\{replica="replica-1"\} 0$/m)
  t.match(metrics, /^db_replica_usable\{replica="replica-1"\} 0$/m)
  t.match(metrics, /^db_reads_total\{server="primary"\} [1-9]/m)
  t.match(metrics, /^db_reads_total\{server="replica-1"\} 0$/m)
})

t.test('a server that is not replaying is never used as a replica', { skip: onPostgres }, async (t) => {
  // The test database itself as its own "replica": it answers, but may differ from the
  // primary in ways nothing can measure once it is not replaying it.
  const server = await build(t, { replicas: (url) => replicaOptions([url]) })
  const ready = await readyWhen(server, (r) => r[0].status !== 'unchecked')
  t.match(ready.replicas, [{ name: 'replica-1', status: 'not-a-standby', up: true, usable: false }])
  t.equal((await server.inject('/v1/regions')).headers['served-by'], 'primary')
  t.match((await server.inject('/metrics')).body, /^db_replica_up\{replica="replica-1"\} 1$/m)
})
