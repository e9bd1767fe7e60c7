/**
 * PostgreSQL goes away under import load: restarted (immediate, then fast), every backend
 * terminated, the whole server frozen for 5 s. The service must answer 503 problem+json
 * meanwhile, never exit, write again within 5 s of PostgreSQL accepting connections, and
 * lose, duplicate or half-write no acknowledged batch. Readiness turns 503 and back.
 *
 * Run on its own (`npm run test:faults`): it restarts the local PostgreSQL server. After an
 * immediate stop PostgreSQL fsyncs its whole data directory before recovery
 * (recovery_init_sync_method), so that outage lasts as long as the cluster is large.
 */
import t from 'tap'
import {
  assertNothingLost, badFailures, createDatabase, createFixtures, dropDatabase, ensurePostgresRunning, freePort, localCluster,
  newAdminToken, now, pausePostgres, pgAccepts, pgCtl, pgQuery, sleep, startService, startWriters, stopService, tally, terminateBackends,
  watchAvailability, watchReadiness, type Service, type Writers
} from './harness.ts'

const RECOVERY_LIMIT_MS = 5000
const STEADY_MS = 2000

interface Outage {
  name: string
  /** When the fault was caused. */
  start: number
  /** When PostgreSQL accepted connections again (for a pause: when it was let go). */
  up: number
  /** When the fault command finished. */
  end: number
}

const controllable = localCluster()

t.test('imports survive PostgreSQL restarts, terminated backends and a frozen server', { skip: typeof controllable === 'string' ? controllable : false }, async (t) => {
  const dbName = `ir_faults_${process.pid}`
  const databaseUrl = await createDatabase(dbName)
  const token = newAdminToken()
  const port = await freePort()
  let service: Service | undefined
  let writers: Writers | undefined
  try {
    service = await startService({ DATABASE_URL: databaseUrl, BOOTSTRAP_ADMIN_TOKEN: token, DB_POOL_MAX: '10' }, port)
    const base = service.url
    await createFixtures(base, token, 4)

    writers = startWriters({ base: () => base, token, writers: 4, batchSize: 20, pauseMs: 20, retryMs: 100, runId: String(process.pid) })
    const readiness = watchReadiness(() => base)
    await sleep(STEADY_MS)
    t.ok(writers.acked() > 0, `writers are writing (${writers.acked()} batches before the first fault)`)

    const outages: Outage[] = []
    const restart = async (mode: 'immediate' | 'fast') => {
      const watch = watchAvailability()
      const start = now()
      await pgCtl('restart', mode)
      const end = now()
      // pg_ctlcluster returns once the server runs; the watcher saw when it accepted again.
      while (watch.up === undefined && now() - end < 10_000) await sleep(20)
      await watch.stop()
      outages.push({ name: `restart -m ${mode}`, start, up: watch.up ?? end, end })
    }

    await restart('immediate')
    await sleep(STEADY_MS)
    await restart('fast')
    await sleep(STEADY_MS)

    {
      const start = now()
      const n = await terminateBackends(dbName)
      const end = now()
      t.ok(n > 0, `terminated ${n} backends of the service`)
      outages.push({ name: 'pg_terminate_backend (all)', start, up: start, end })
    }
    await sleep(STEADY_MS)

    {
      const { stoppedAt, resumedAt } = await pausePostgres(5000)
      outages.push({ name: 'SIGSTOP 5 s', start: stoppedAt, up: resumedAt, end: resumedAt })
    }
    await sleep(STEADY_MS)

    await writers.stop(30_000)
    await readiness.stop()
    t.equal(service.exit, undefined, 'the service never exited')

    // Time to the first acknowledged write after each outage.
    for (const o of outages) {
      const first = writers.firstSuccessAfter(o.up)
      const recovery = first !== undefined ? first - o.up : Infinity
      t.ok(recovery <= RECOVERY_LIMIT_MS, `${o.name}: first successful write ${Math.round(recovery)} ms after PostgreSQL accepted connections again (fault lasted ${Math.round(o.up - o.start)} ms)`)
      // Readiness: back to 200 within the same limit; 503 seen while PostgreSQL was away.
      const ready = readiness.answers.find((a) => a.at >= o.up && a.status === 200)
      t.ok(ready !== undefined && ready.at - o.up <= RECOVERY_LIMIT_MS, `${o.name}: /health/ready 200 again after ${ready !== undefined ? Math.round(ready.at - o.up) : '∞'} ms`)
      if (o.name !== 'pg_terminate_backend (all)') {
        const during = readiness.answers.filter((a) => a.at > o.start && a.at <= o.up + 100)
        t.ok(during.some((a) => a.status === 503), `${o.name}: /health/ready answered 503 while the database was away (${JSON.stringify(tally(during, (a) => String(a.status)))})`)
      }
      t.ok(readiness.answers.filter((a) => a.at > o.start && a.at <= o.up + 100).every((a) => a.status === 200 || a.status === 503), `${o.name}: readiness answered only 200 or 503`)
    }

    // Every failure the writers saw was a 503 problem+json.
    const bad = badFailures(writers.failures)
    t.same(bad, [], 'every failed answer was 503 application/problem+json with a code')
    t.comment(`answers other than 2xx: ${JSON.stringify(tally(writers.failures, (f) => `${f.status} ${f.code ?? ''}`))}; network errors: ${JSON.stringify(tally(writers.networkErrors, (e) => e.code))}`)

    // What the database holds.
    await stopService(service)
    const v = await assertNothingLost(t, writers, (text) => pgQuery(databaseUrl, text, [], 30_000))
    t.equal(v.rows, v.acked * 20, 'rows = acknowledged batches x batch size')
  } catch (err) {
    if (service !== undefined) t.comment(`service output:\n${service.output()}`)
    throw err
  } finally {
    await writers?.stop(0)
    await ensurePostgresRunning()
    if (service !== undefined) await stopService(service)
    await dropDatabase(dbName).catch(() => {})
    t.ok(await pgAccepts(2000), 'PostgreSQL is running at the end')
  }
})
