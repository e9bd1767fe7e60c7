/**
 * SIGTERM under import load, twice (the second time with a repeated signal while the
 * service drains): requests in flight complete or get a 503 problem+json, no connection
 * is dropped mid-request, every acknowledged batch is in the database, and the process
 * exits 0.
 */
import t from 'tap'
import {
  assertNothingLost, PG_ADMIN_URL, badFailures, createDatabase, createFixtures, dropDatabase, freePort, newAdminToken, now, pgAccepts,
  pgQuery, sleep, startService, startWriters, stopService, tally, type Service, type Writers
} from './harness.ts'

const available = await pgAccepts(3000)

t.test('graceful shutdown under import load', { skip: available ? false : `no PostgreSQL at ${PG_ADMIN_URL}` }, async (t) => {
  const dbName = `ir_faults_term_${process.pid}`
  const databaseUrl = await createDatabase(dbName)
  const token = newAdminToken()
  const port = await freePort()
  const env = { DATABASE_URL: databaseUrl, BOOTSTRAP_ADMIN_TOKEN: token }
  let service: Service | undefined
  let writers: Writers | undefined
  try {
    service = await startService(env, port)
    const base = service.url
    await createFixtures(base, token, 4)
    writers = startWriters({ base: () => base, token, writers: 4, batchSize: 20, pauseMs: 0, retryMs: 100, runId: `term${process.pid}` })

    const signalled: number[] = []
    let ackedAtStart = 0
    for (const signals of [1, 2]) {
      await sleep(2000)
      const ackedBefore = writers.acked()
      t.ok(ackedBefore > ackedAtStart, `this instance acknowledged ${ackedBefore - ackedAtStart} batches before the signal`)
      t.ok(writers.inFlight > 0, `imports in flight when SIGTERM #${signals === 1 ? 1 : 2} arrives`)
      const sentAt = now()
      signalled.push(sentAt)
      service.proc.kill('SIGTERM')
      if (signals === 2) {
        await sleep(50)
        service.proc.kill('SIGTERM')
      }
      const timer = setTimeout(() => service?.proc.kill('SIGKILL'), 20_000)
      const exit = await service.exited
      clearTimeout(timer)
      t.same({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, `exit code 0 after ${signals} SIGTERM(s), ${Math.round(exit.at - sentAt)} ms to drain`)
      // The next instance on the same port; the writers retry meanwhile.
      service = await startService(env, port)
      ackedAtStart = writers.acked()
    }

    await sleep(1500)
    await writers.stop(30_000)

    const bad = badFailures(writers.failures)
    t.same(bad, [], 'every failed answer was 503 application/problem+json with a code')
    // A request the server has read must be answered. A connection still in the listen
    // backlog when the server closes its socket is reset unread: for the client the same as
    // a refused connection, and the retry with the same key is safe. Which one a reset was
    // shows on the retry: a request the server had executed is replayed, an unread one is not.
    const resets = writers.networkErrors.filter((e) => e.code !== 'ECONNREFUSED')
    const replayed = new Set(writers.batches.filter((b) => b.replayed === true).map((b) => b.id))
    const dropped = resets.filter((e) => replayed.has(e.batch))
    t.same(dropped, [], 'no request the server had executed lost its answer')
    t.comment(`connections reset unread as the listening socket closed: ${resets.length} (sent ${resets.map((e) => `${Math.round(e.sentAt - Math.max(...signalled.filter((s) => s <= e.at)))} ms after a SIGTERM, reset ${Math.round(e.at - e.sentAt)} ms later`).join('; ') || '-'})`)
    t.comment(`answers other than 2xx: ${JSON.stringify(tally(writers.failures, (f) => `${f.status} ${f.code ?? ''}`))}; network errors: ${JSON.stringify(tally(writers.networkErrors, (e) => e.code))}`)

    const last = await stopService(service)
    t.same({ code: last.code, signal: last.signal }, { code: 0, signal: null }, 'the last instance exits 0 too')
    await assertNothingLost(t, writers, (text) => pgQuery(databaseUrl, text, [], 30_000))
  } catch (err) {
    if (service !== undefined) t.comment(`service output:\n${service.output()}`)
    throw err
  } finally {
    await writers?.stop(0)
    if (service !== undefined) await stopService(service)
    await dropDatabase(dbName).catch(() => {})
  }
})
