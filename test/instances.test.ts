import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import {
  COUNTIES, createDatabase, createFixtures, dropDatabase, freePort, newAdminToken, pgAccepts, pgQuery, request, root,
  startService, stopService, type Answer, type Service
} from './faults/harness.ts'
import { redisOrSkip, uniquePrefix } from './redis.ts'
import { FEED_SETTLED } from './helper.ts'

// Several instances, one truth: two service processes (`npm start`) on one fresh
// PostgreSQL database, started together. Idempotency keys live in the database (one
// execution for 20 identical imports spread over both); the rate limit is one limit
// through Redis and each process's own without it.
//
// The server: INSTANCES_DATABASE_URL, else DATABASE_URL (so `npm test`'s PostgreSQL run
// has it); a database is created there and dropped after. Without either (the embedded
// run) the test is skipped; a server that does not answer skips it too, except in CI.

/** Requests from here are allow-listed (the import traffic); from 127.0.0.2 they are rate limited. */
const LIMITED_CLIENT = '127.0.0.2'
const RATE_LIMIT = 3

/**
 * Two instances, started at the same time. Load shedding is off, as in the in-process
 * tests: test files running meanwhile on a small machine lag the event loop at random.
 */
async function startPair (t: Test, env: Record<string, string>): Promise<Service[]> {
  const ports = [await freePort(), await freePort()]
  const started = await Promise.allSettled(ports.map((port) => startService({ RATE_LIMIT_ALLOW: '127.0.0.1', MAX_EVENT_LOOP_DELAY_MS: '0', ...env }, port)))
  const services = started.flatMap((s) => s.status === 'fulfilled' ? [s.value] : [])
  t.teardown(async () => {
    await Promise.all(services.map((s) => stopService(s)))
    // What the instances logged (warnings and errors), to tell why a check failed.
    if (!t.passing()) for (const [i, s] of services.entries()) t.comment(`instance ${i + 1} (port ${s.port}):\n${s.output()}`)
  })
  const failed = started.find((s) => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return services
}

/** GET /v1/regions from the limited client, alternating between the instances: the statuses in order. */
async function alternate (services: Service[], n: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < n; i++) statuses.push((await request(services[i % services.length]!.url, 'GET', '/v1/regions', undefined, {}, 10_000, LIMITED_CLIENT)).status)
  return statuses
}

async function run (adminUrl: string) {
  const name = `ir_instances_${process.pid}_${randomBytes(3).toString('hex')}`
  const databaseUrl = await createDatabase(name, adminUrl)
  t.teardown(() => dropDatabase(name, adminUrl))
  const token = newAdminToken()
  const common = { DATABASE_URL: databaseUrl, BOOTSTRAP_ADMIN_TOKEN: token, RATE_LIMIT_MAX: String(RATE_LIMIT) }

  t.test('without Redis: migrations once, one execution for 20 identical imports, a limit per process', async (t) => {
    // A fresh, empty database: both instances migrate it and register the same admin token at once.
    const services = await startPair(t, common)
    const migrations = readdirSync(path.join(root, 'migrations')).filter((f) => f.endsWith('.sql')).length
    const [{ n } = { n: 0 }] = await pgQuery<{ n: number }>(databaseUrl, 'select count(*)::int as n from drizzle.__drizzle_migrations')
    t.equal(n, migrations, 'each migration applied once')
    for (const s of services) t.equal((await request(s.url, 'GET', '/health/ready')).status, 200)

    await createFixtures(services[0]!.url, token, 1)
    const values = Array.from({ length: 50 }, (_, i) => ({
      kind: 'actual', regionCode: COUNTIES[i % COUNTIES.length], indicatorCode: 'fault-w0', year: 2000 + i, value: String(i), status: 'final'
    }))
    const headers = { authorization: `Bearer ${token}`, 'idempotency-key': `instances-${name}` }
    const answers: Answer[] = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      request(services[i % 2]!.url, 'POST', '/v1/values/import', { values }, headers, 60_000)))
    t.same(answers.map((a) => a.status), answers.map(() => 200), answers.find((a) => a.status !== 200)?.body ?? 'all 200')
    const executed = answers.filter((a) => a.headers['idempotent-replayed'] !== 'true')
    t.equal(executed.length, 1, 'one execution')
    t.match(JSON.parse(executed[0]?.body ?? '{}'), { received: 50, created: 50 })
    t.equal(new Set(answers.map((a) => a.body)).size, 1, 'the 19 replays answer what the execution answered')

    // The data shows one execution: 50 values at revision 1, one change each in the feed,
    // and 50 created rows counted by the two instances together. The ids drawn are theirs
    // alone: a second execution, even one rolled back later, would have drawn ids of its own.
    const [stored = { rows: 0, revisions: 0, drawn: 0 }] = await pgQuery<{ rows: number, revisions: number, drawn: number }>(databaseUrl,
      `select count(*)::int as rows, sum(revision)::int as revisions,
        (select last_value from pg_sequences where sequencename = 'yearly_values_id_seq')::int as drawn from yearly_values`)
    t.same(stored, { rows: 50, revisions: 50, drawn: 50 })
    // The feed serves a transaction once every older one on the server has finished (see
    // feedSettled); other test databases' transactions may still be running.
    for (let i = 0; i < 600 && (await pgQuery<{ settled: boolean }>(databaseUrl, FEED_SETTLED))[0]?.settled !== true; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    const feed = JSON.parse((await request(services[1]!.url, 'GET', '/v1/changes?limit=1000', undefined, { authorization: `Bearer ${token}` })).body) as { items: Array<{ entity: string, key: string }> }
    const valueChanges = feed.items.filter((c) => c.entity === 'value')
    t.equal(valueChanges.length, 50, 'one change per value in the feed')
    t.equal(new Set(valueChanges.map((c) => c.key)).size, 50)
    let created = 0
    for (const s of services) {
      const metrics = (await request(s.url, 'GET', '/metrics')).body
      created += Number(/^import_rows_total\{outcome="created"\} (\d+)$/m.exec(metrics)?.[1] ?? 'NaN')
    }
    t.equal(created, 50, 'import_rows_total over both instances: the rows of one execution')

    // A refused atomic import writes nothing, and its 422 is executed once and replayed too.
    const refusedHeaders = { ...headers, 'idempotency-key': `instances-refused-${name}` }
    const refusedBody = { values: [...values.map((v) => ({ ...v, year: v.year + 100 })), { ...values[0], year: 2200, value: 'not a number' }] }
    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      request(services[i % 2]!.url, 'POST', '/v1/values/import', refusedBody, refusedHeaders, 60_000)))
    t.same(refused.map((a) => a.status), refused.map(() => 422))
    t.equal(refused.filter((a) => a.headers['idempotent-replayed'] !== 'true').length, 1, 'one execution of the refused import')
    t.equal(new Set(refused.map((a) => JSON.parse(a.body).summary).map((s) => JSON.stringify(s))).size, 1, 'one summary for all')

    t.same(await alternate(services, 2 * RATE_LIMIT + 2), [200, 200, 200, 200, 200, 200, 429, 429], `${RATE_LIMIT} requests per instance: the limit is per process`)
  })

  t.test('with Redis: one limit for both instances', async (t) => {
    const redisUrl = await redisOrSkip(t)
    if (redisUrl === undefined) return
    const services = await startPair(t, { ...common, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: uniquePrefix() })
    const statuses = await alternate(services, RATE_LIMIT + 2)
    t.same(statuses, [200, 200, 200, 429, 429], `request ${RATE_LIMIT + 1} overall is refused, whichever instance gets it`)
    for (const s of services) t.match(JSON.parse((await request(s.url, 'GET', '/health/ready')).body), { status: 'ok', redis: 'connected' })
  })
}

// Four service starts and 40 imports may take longer than the default 120 s on a busy two-core machine.
t.setTimeout(240_000)

const adminUrl = process.env.INSTANCES_DATABASE_URL || process.env.DATABASE_URL || undefined
if (adminUrl === undefined) {
  t.plan(0, 'no PostgreSQL server: set INSTANCES_DATABASE_URL (or DATABASE_URL) to a server where databases can be created')
} else if (!await pgAccepts(3000, adminUrl)) {
  const message = `PostgreSQL at ${new URL(adminUrl).host} does not answer`
  if (process.env.CI === 'true') t.fail(message)
  else t.plan(0, message)
} else {
  await run(adminUrl)
}
