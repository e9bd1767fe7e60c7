import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Db } from '../src/db/client.ts'
import { queryRows } from '../src/db/query.ts'
import { IDEMPOTENCY_LOCK_CLASS, idempotencyLockId, recordAnswer } from '../src/modules/imports/imports.idempotency.ts'
import { build, call, collect, createIndicator, createRegions, json } from './helper.ts'

// Idempotency-Key across instances: a keyed import takes the key's advisory lock in its
// transaction, so a request with the same key, on any instance, waits for it and then
// answers what it stored. test/instances.test.ts runs it over two real processes; here a
// second connection of the test plays the other instance.

const prepare = async (app: FastifyInstance) => {
  await createRegions(app)
  await createIndicator(app, { code: 'new-employment', name: '新增残疾人就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
}
const row = (year: number, value = '1') => ({ kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year, value })
const post = (app: FastifyInstance, values: unknown[], key: string, query = '') =>
  call(app, 'POST', `/v1/values/import${query}`, { values }, { 'idempotency-key': key })

const app = await build(t)
await prepare(app)
// An instance that waits 300 ms for a key (built here, with the other: creating a database
// mid-file would hold back the changes feed that test files running meanwhile read).
const impatient = await build(t, { imports: { idempotencyWaitMs: 300 } })
await prepare(impatient)

t.test('a refused atomic import is stored and replayed as 422; a dry run is not stored', async (t) => {
  const values = [row(2040), row(2041, 'abc')]
  const first = await post(app, values, 'refused-1')
  t.equal(first.statusCode, 422)
  t.equal(json(first).code, 'IMPORT_REJECTED')
  t.notOk(first.headers['idempotent-replayed'])
  const retry = await post(app, values, 'refused-1')
  t.equal(retry.statusCode, 422)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.same(json(retry).summary, json(first).summary)
  t.same(await collect(app, '/v1/values?region=331003&from=2040&to=2041'), [], 'nothing was written')

  const dry = await post(app, [row(2042)], 'dry-1', '?dryRun=true')
  t.match(json(dry), { created: 1, dryRun: true })
  const real = await post(app, [row(2042)], 'dry-1')
  t.equal(real.statusCode, 200)
  t.notOk(real.headers['idempotent-replayed'], 'the dry run left the key unused')
  t.match(json(real), { created: 1, dryRun: false })
})

/**
 * Holds the advisory lock of `key` in a transaction of its own, as the request of another
 * instance would; `stored`, when given, is the answer it records as it commits. (It writes
 * only then: a transaction that has written holds back the changes feed of every database
 * on the server, which the other test files running meanwhile read.)
 */
async function holdKey (db: Db, key: string, stored?: { requestHash: string, status: number, response: unknown }) {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let held!: () => void
  const holding = new Promise<void>((resolve) => { held = resolve })
  const done = db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}::int, ${idempotencyLockId(key)}::int)`)
    held()
    await released
    if (stored !== undefined) await recordAnswer(tx as unknown as Db, key, stored.requestHash, stored)
  })
  await holding
  return { release: async () => { release(); await done } }
}

/**
 * Resolves once `n` sessions wait for an Idempotency-Key lock, or once `request` is
 * answered (a request that did not wait: the caller's checks then fail).
 */
async function waiters (db: Db, n: number, request: Promise<unknown>) {
  const state = { answered: false }
  const done = () => { state.answered = true }
  request.then(done, done)
  while (!state.answered) {
    const [{ count } = { count: 0 }] = await queryRows<{ count: number }>(db, sql`select count(*)::int as count from pg_locks where locktype = 'advisory' and classid = ${IDEMPOTENCY_LOCK_CLASS} and not granted`)
    if (count >= n) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const noSecondConnection = app.database.driver === 'pglite' ? 'the embedded database has one connection: no second transaction can hold a key while a request waits' : false

t.test('a request waits for the transaction holding its key, then replays what it stored', { skip: noSecondConnection }, async (t) => {
  // The fingerprint of a request does not depend on its key: learn it from a first import.
  const values = [row(2050, '5')]
  t.equal((await post(app, values, 'fingerprint-probe')).statusCode, 200)
  const [{ request_hash: requestHash } = { request_hash: '' }] = await queryRows<{ request_hash: string }>(app.db, sql`select request_hash from idempotency_keys where key = 'fingerprint-probe'`)

  // An answer this request could not produce itself (its one row exists already).
  const theirs = { received: 99, created: 99, updated: 0, unchanged: 0, rejected: 0, dryRun: false, mode: 'atomic', errors: [], errorsTruncated: false }
  const holder = await holdKey(app.db, 'shared-1', { requestHash, status: 200, response: theirs })
  let answered = false
  const waiting = post(app, values, 'shared-1').finally(() => { answered = true })
  await waiters(app.db, 1, waiting)
  t.notOk(answered, 'the request waits while the key is held')
  await holder.release()
  const res = await waiting
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['idempotent-replayed'], 'true')
  t.same(json(res), theirs, 'the answer stored by the holder, not an import of its own')

  const other = await holdKey(app.db, 'shared-2', { requestHash: 'another request', status: 200, response: theirs })
  const mismatched = post(app, values, 'shared-2')
  await waiters(app.db, 1, mismatched)
  await other.release()
  const refused = await mismatched
  t.equal(refused.statusCode, 422)
  t.equal(json(refused).code, 'IDEMPOTENCY_KEY_REUSED', 'the same key with another body, after waiting, is still refused')
})

t.test('the wait is bounded: 503 IDEMPOTENCY_KEY_IN_PROGRESS with Retry-After, nothing imported', { skip: noSecondConnection }, async (t) => {
  const holder = await holdKey(impatient.db, 'slow-1')
  // Two requests of one instance: the first waits on the lock, the second behind the first.
  const answers = await Promise.all([post(impatient, [row(2060)], 'slow-1'), post(impatient, [row(2060)], 'slow-1')])
  for (const res of answers) {
    t.equal(res.statusCode, 503)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.equal(res.headers['retry-after'], '5')
    t.equal(json(res).code, 'IDEMPOTENCY_KEY_IN_PROGRESS')
  }
  t.same(await collect(impatient, '/v1/values?region=331003&from=2060&to=2060'), [], 'nothing was imported')
  await holder.release()

  const retry = await post(impatient, [row(2060)], 'slow-1')
  t.equal(retry.statusCode, 200, 'once the key is free, the retry imports')
  t.notOk(retry.headers['idempotent-replayed'])
  t.match(json(retry), { created: 1 })
})

t.test('requests queued behind one that then purges expired keys are answered, not spun on', async (t) => {
  // The first execution of a key now and then purges expired keys before it returns; the
  // requests queued behind it in this process must be let go when it settles, not only
  // once that purge is done. Forced here, on the 300 ms instance: a queue that waited for
  // the purge would spin without yielding until the wait ran out, and answer 503.
  const random = Math.random
  Math.random = () => 0
  t.teardown(() => { Math.random = random })
  const answers = await Promise.all(Array.from({ length: 5 }, () => post(impatient, [row(2070)], 'purging-1')))
  Math.random = random
  t.same(answers.map((a) => a.statusCode), [200, 200, 200, 200, 200], answers.find((a) => a.statusCode !== 200)?.body ?? 'all 200')
  t.equal(answers.filter((a) => a.headers['idempotent-replayed'] !== 'true').length, 1, 'one execution, four replays')
})
