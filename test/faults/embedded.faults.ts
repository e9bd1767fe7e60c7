/**
 * The embedded database (PGlite) killed with SIGKILL in the middle of imports, twice: the
 * service opens the same DATA_DIR again, and every acknowledged batch is there, whole.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import t from 'tap'
import {
  assertNothingLost, badFailures, createFixtures, freePort, newAdminToken, now, request, sleep, startService, startWriters,
  stopService, tally, type Service, type Writers
} from './harness.ts'
import { createEmbedded } from '../../src/db/embedded.ts'

t.test('kill -9 during imports on the embedded database', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ir-faults-pglite-'))
  const token = newAdminToken()
  const port = await freePort()
  const env = { DATABASE_URL: '', DATA_DIR: dataDir, SEED_ON_FIRST_START: 'false', BOOTSTRAP_ADMIN_TOKEN: token }
  let service: Service | undefined
  let writers: Writers | undefined
  try {
    service = await startService(env, port)
    const base = service.url
    await createFixtures(base, token, 2)
    writers = startWriters({ base: () => base, token, writers: 2, batchSize: 50, pauseMs: 0, retryMs: 100, runId: `emb${process.pid}` })

    for (let kill = 1; kill <= 2; kill++) {
      const ackedBefore = writers.acked()
      const deadline = now() + 30_000
      while ((writers.acked() < ackedBefore + 5 || writers.inFlight === 0) && now() < deadline) await sleep(10)
      t.ok(writers.acked() >= ackedBefore + 5, `batches acknowledged before kill ${kill}`)
      t.ok(writers.inFlight > 0, `an import is in flight at kill ${kill}`)
      service.proc.kill('SIGKILL')
      await service.exited
      const killedAt = now()
      service = await startService(env, port)
      const ready = await request(base, 'GET', '/health/ready', undefined, {}, 5000)
      t.equal(ready.status, 200, `the service opened the same DATA_DIR again (live after ${Math.round(now() - killedAt)} ms)`)
    }

    await sleep(1000)
    await writers.stop(30_000)
    t.same(badFailures(writers.failures), [], 'every failed answer was 503 application/problem+json with a code')
    t.comment(`answers other than 2xx: ${JSON.stringify(tally(writers.failures, (f) => `${f.status} ${f.code ?? ''}`))}; network errors: ${JSON.stringify(tally(writers.networkErrors, (e) => e.code))}`)
    const last = await stopService(service)
    t.same({ code: last.code, signal: last.signal }, { code: 0, signal: null }, 'a SIGTERM closes it cleanly')

    const db = await createEmbedded(PGlite, dataDir)
    try {
      await assertNothingLost(t, writers, async (text) => (await db.query<Record<string, unknown>>(text)).rows)
    } finally {
      await db.close()
    }
  } catch (err) {
    if (service !== undefined) t.comment(`service output:\n${service.output()}`)
    throw err
  } finally {
    await writers?.stop(0)
    if (service !== undefined) await stopService(service)
    await rm(dataDir, { recursive: true, force: true })
  }
})
