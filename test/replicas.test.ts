// Read replicas against a real streaming standby (test/support/cluster.ts makes a primary
// and a hot standby of it in temporary folders on free ports; the server on 5432 is left
// alone). Two service instances share them, as two instances behind a load balancer:
// A writes; B reads and checks its replica every 100 ms. A checks only at start, so a
// replica stopped afterwards is met by a read, not by a check.
//
// It runs in the PostgreSQL suite only (DATABASE_URL set), since it needs nothing from
// either suite's database and would otherwise run twice; there it skips when the
// PostgreSQL 15 binaries or root are missing, and fails instead when CI=true.
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import pino from 'pino'
import t from 'tap'
import { openDatabase } from '../src/db/client.ts'
import { parseLsn } from '../src/db/wal-position.ts'
import { loadSeed } from '../src/seed/load.ts'
import { build, call, json } from './helper.ts'
import { clusterUnavailable, startCluster, type Cluster } from './support/cluster.ts'

const missing = clusterUnavailable()
const skip = !process.env.DATABASE_URL
  ? 'runs in the PostgreSQL suite (DATABASE_URL set): it makes its own primary and standby'
  : missing !== undefined && process.env.CI !== 'true' ? missing : false
if (process.env.DATABASE_URL && missing !== undefined && process.env.CI === 'true') t.fail(`CI=true: the replica tests must run, but ${missing}`)

const silent = pino({ level: 'silent' })
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** A bound the tests wait past (lagging) and stay well inside (a read right after a write). */
const MAX_LAG_MS = 1500

async function until<T> (what: string, get: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await get()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** The replica as the instance's readiness reports it (readiness must stay 200 throughout). */
async function replicaOf (server: FastifyInstance) {
  const ready = await server.inject('/health/ready')
  if (ready.statusCode !== 200) throw new Error(`not ready: ${ready.body}`)
  return json(ready).replicas[0] as { status: string, up: boolean, usable: boolean, replayPosition: string | null, lagSeconds: number | null }
}

const replicaBecomes = (server: FastifyInstance, status: string) =>
  until(`replica ${status}`, async () => { const r = await replicaOf(server); return r.status === status ? r : undefined })

const metric = (body: string, line: RegExp) => Number(line.exec(body)?.[1] ?? NaN)

t.test('read replicas', { skip, timeout: 90_000 }, async (t) => {
  const cluster: Cluster = await startCluster()
  t.teardown(cluster.destroy)

  // Migrations and the seed dataset through the service's own code, on the primary.
  const setup = await openDatabase({ databaseUrl: cluster.primary.url, dataDir: '', logger: silent })
  await setup.migrate()
  await loadSeed(setup.db, silent)
  await setup.close()
  await cluster.caughtUp()

  /** An instance's database, opened and migrated as a start opens it. */
  const instance = async (checkIntervalMs: number, maxLagMs = MAX_LAG_MS) => {
    const database = await openDatabase({
      databaseUrl: cluster.primary.url,
      dataDir: '',
      logger: silent,
      poolMax: 8,
      replicas: { urls: [cluster.replica.url], poolMax: 4, maxLagMs, maxLagBytes: 0, checkIntervalMs }
    })
    await database.migrate()
    return database
  }
  const a = await build(t, { database: await instance(3_600_000) })
  const b = await build(t, { database: await instance(100) })
  await replicaBecomes(a, 'usable')
  await replicaBecomes(b, 'usable')

  const writer = new pg.Pool({ connectionString: cluster.primary.url, max: 6 })
  writer.on('error', () => {})
  t.teardown(() => writer.end())
  const counties = (await cluster.primary.query<{ code: string }>("select code from regions where level = 'county' order by code limit 80")).map((r) => r.code)
  const region = counties[0]!

  /** Renames `region` through A; answers its Commit-Position. */
  const rename = async (nameEn: string) => {
    const res = await call(a, 'PATCH', `/v1/regions/${region}`, { nameEn })
    t.equal(res.statusCode, 200)
    return res.headers['commit-position'] as string
  }
  const readB = (headers: Record<string, string> = {}) => b.inject({ url: `/v1/regions/${region}`, headers })

  await t.test('a read sending the Commit-Position of a write sees it, on whichever server answers', async (t) => {
    const servedBy: Record<string, number> = {}
    for (let i = 0; i < 60; i++) {
      const nameEn = `Read-your-writes ${i}`
      const position = await rename(nameEn)
      // Every tenth time, wait until B has seen its replica replay the write: the replica
      // must then answer, and answer right.
      if (i % 10 === 0) await until('the replica to replay the write', async () => { const r = await replicaOf(b); return r.usable && parseLsn(r.replayPosition!)! >= parseLsn(position)! ? r : undefined })
      const read = await readB({ 'commit-position': position })
      t.equal(read.statusCode, 200)
      t.equal(json(read).nameEn, nameEn, `read ${i} sees write ${i}`)
      if (i % 10 === 0) t.equal(read.headers['served-by'], 'replica-1', 'the replica has it: the replica answers')
      servedBy[read.headers['served-by'] as string] = (servedBy[read.headers['served-by'] as string] ?? 0) + 1
    }
    t.comment(`answered by ${JSON.stringify(servedBy)}`)
  })

  await t.test('the position is what guarantees it: a replica that has not replayed the write answers older data without it', async (t) => {
    await cluster.pauseReplay()
    try {
      const position = await rename('Written while replay is paused')
      const without = await readB()
      t.equal(without.headers['served-by'], 'replica-1', 'within the lag bound the replica still answers')
      t.not(json(without).nameEn, 'Written while replay is paused', 'and it does not have the write yet')
      const withPosition = await readB({ 'commit-position': position })
      t.equal(withPosition.headers['served-by'], 'primary', 'with the position the primary answers')
      t.equal(json(withPosition).nameEn, 'Written while replay is paused')

      // An instance started now (its migrations checked after that write) reads nothing
      // from a replica short of its start, position or not: a replica must have the schema
      // the code expects. (A generous lag bound: the replica is usable, only behind.)
      const c = await build(t, { database: await instance(100, 60_000) })
      await replicaBecomes(c, 'usable')
      const fromC = await c.inject(`/v1/regions/${region}`)
      t.equal(fromC.headers['served-by'], 'primary', 'a replica behind the start is not read')
      t.equal(json(fromC).nameEn, 'Written while replay is paused')
    } finally {
      await cluster.resumeReplay()
    }
    await cluster.caughtUp()
  })

  await t.test('the changes feed read from the replica misses nothing under concurrent writers with delayed commits', async (t) => {
    const writing = { on: true }
    // Direct writers on the primary, half of them holding their transaction open for a
    // while after writing: transactions that started earlier commit later.
    const sqlWriter = async (w: number) => {
      for (let i = 0; i < 12; i++) {
        const client = await writer.connect()
        try {
          await client.query('begin')
          await client.query("select set_config('registry.actor', $1, true)", [`writer-${w}`])
          await client.query('update regions set name_en = $1, revision = revision + 1, updated_at = now() where code = $2', [`w${w} ${i}`, counties[1 + w * 12 + i]])
          if ((w + i) % 2 === 0) await client.query('select pg_sleep($1)', [0.05 + Math.random() * 0.35])
          await client.query('commit')
        } finally {
          client.release()
        }
      }
    }
    // And the service itself, through instance A.
    const apiWriter = async () => {
      for (let i = 0; i < 20; i++) await rename(`feed ${i}`)
    }
    const writers = Promise.all([0, 1, 2, 3, 4].map(sqlWriter).concat(apiWriter())).finally(() => { writing.on = false })

    const seen: Array<{ cursor: string, entity: string, key: string, revision: number }> = []
    const servedBy: Record<string, number> = {}
    let cursor: string | undefined
    const poll = async () => {
      const res = await b.inject(`/v1/changes?limit=200${cursor !== undefined ? `&after=${cursor}` : ''}`)
      t.equal(res.statusCode, 200)
      servedBy[res.headers['served-by'] as string] = (servedBy[res.headers['served-by'] as string] ?? 0) + 1
      const page = json(res)
      seen.push(...page.items)
      cursor = page.nextCursor
      return page.items.length
    }
    while (writing.on) {
      if (await poll() === 0) await sleep(20)
    }
    await writers
    // Every writer has finished and the replica has it all: the feed now serves everything.
    await cluster.caughtUp()
    await until('the poller to reach the end of the feed', async () => (await poll() === 0 ? true : undefined))
    const stored = await cluster.primary.query<{ entity: string, key: string, revision: number }>(
      'select c.entity::text as entity, k.key, k.revision from changes c cross join lateral unnest(c.keys, c.revisions) as k(key, revision)')

    const asKey = (c: { entity: string, key: string, revision: number }) => `${c.entity} ${c.key} ${c.revision}`
    t.equal(new Set(seen.map((c) => c.cursor)).size, seen.length, 'no change served twice')
    t.same([...new Set(seen.map(asKey))].sort(), stored.map(asKey).sort(), 'every stored change was served, and nothing else')
    t.ok((servedBy['replica-1'] ?? 0) > 0, `the replica answered polls: ${JSON.stringify(servedBy)}`)
  })

  await t.test('a replica stopped: reads fall back to the primary, nothing fails; started again, it is used again', async (t) => {
    const latest = 'Before the replica stops'
    await rename(latest)
    await cluster.caughtUp()
    await replicaBecomes(b, 'usable')
    await cluster.replica.stop('fast')

    // A still believes the replica usable: the read meets the stopped server and is
    // asked of the primary instead.
    const fallbacksBefore = metric((await a.inject('/metrics')).body, /^db_replica_fallbacks_total\{replica="replica-1"\} (\d+)$/m)
    const met = await a.inject(`/v1/regions/${region}`)
    t.equal(met.statusCode, 200)
    t.equal(json(met).nameEn, latest)
    t.equal(met.headers['served-by'], 'primary', 'the primary answered after the replica failed')
    const aMetrics = (await a.inject('/metrics')).body
    t.ok(metric(aMetrics, /^db_replica_fallbacks_total\{replica="replica-1"\} (\d+)$/m) > fallbacksBefore, 'the fallback is counted')
    t.match(await replicaOf(a), { status: 'down', usable: false }, 'a read that failed takes the replica out at once')

    const down = await replicaBecomes(b, 'down')
    t.equal(down.up, false, 'readiness (still 200) reports it down')
    const whileDown: Array<Record<string, string>> = [{}, { 'commit-position': await rename('While the replica is down') }]
    for (const headers of whileDown) {
      const read = await readB(headers)
      t.equal(read.statusCode, 200)
      t.equal(read.headers['served-by'], 'primary')
      t.equal(json(read).nameEn, 'While the replica is down')
    }
    const changes = await b.inject('/v1/changes?limit=1')
    t.equal(changes.statusCode, 200)
    const bMetrics = (await b.inject('/metrics')).body
    t.match(bMetrics, /^db_replica_up\{replica="replica-1"\} 0$/m)
    t.match(bMetrics, /^db_replica_usable\{replica="replica-1"\} 0$/m)

    await cluster.replica.start()
    await cluster.caughtUp()
    await replicaBecomes(b, 'usable')
    const again = await readB()
    t.equal(again.statusCode, 200)
    t.equal(again.headers['served-by'], 'replica-1', 'back in use')
    t.equal(json(again).nameEn, 'While the replica is down', 'and it replayed what it missed')
    t.match((await b.inject('/metrics')).body, /^db_replica_up\{replica="replica-1"\} 1$/m)
  })

  await t.test('a replica lagging past the bound is skipped and reported; caught up, it is used again', async (t) => {
    await replicaBecomes(b, 'usable')
    await cluster.pauseReplay()
    try {
      await rename('While the replica lags')
      const lagging = await replicaBecomes(b, 'lagging')
      t.ok(lagging.lagSeconds! > MAX_LAG_MS / 1000, `lag ${lagging.lagSeconds} s is past the bound`)
      t.equal(lagging.up, true)
      const read = await readB()
      t.equal(read.statusCode, 200)
      t.equal(read.headers['served-by'], 'primary', 'skipped even without a position')
      t.equal(json(read).nameEn, 'While the replica lags')
      const metrics = (await b.inject('/metrics')).body
      t.match(metrics, /^db_replica_usable\{replica="replica-1"\} 0$/m)
      t.ok(metric(metrics, /^db_replica_lag_seconds\{replica="replica-1"\} ([0-9.e+-]+)$/m) > MAX_LAG_MS / 1000, 'the lag is in /metrics')
      t.ok(metric(metrics, /^db_replica_lag_bytes\{replica="replica-1"\} (\d+)$/m) > 0)
    } finally {
      await cluster.resumeReplay()
    }
    const usable = await replicaBecomes(b, 'usable')
    t.equal(usable.lagSeconds, 0, 'caught up')
    const read = await readB()
    t.equal(read.headers['served-by'], 'replica-1')
    t.equal(json(read).nameEn, 'While the replica lags')
  })
})
