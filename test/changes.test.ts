import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { writeTransaction } from '../src/db/transaction.ts'
import { queryRows } from '../src/db/query.ts'
import { build, call, createIndicator, createPlan, createRegions, feedSettled, json } from './helper.ts'

interface Change { cursor: string, entity: string, key: string, op: string, revision: number, actor: string, at: string }

const app = await build(t)
await createRegions(app)
await createIndicator(app)

async function poll (after?: string, limit = 100): Promise<{ items: Change[], nextCursor: string, hasMore: boolean }> {
  const res = await app.inject(`/v1/changes?limit=${limit}${after !== undefined ? `&after=${after}` : ''}`)
  t.equal(res.statusCode, 200, res.body)
  return json(res)
}

/** Follows the feed from `after` to its current end. */
async function drain (after?: string, limit = 100) {
  await feedSettled(app)
  const seen: Change[] = []
  let cursor = after
  for (;;) {
    const page = await poll(cursor, limit)
    seen.push(...page.items)
    cursor = page.nextCursor
    if (!page.hasMore) return { seen, cursor }
  }
}

t.test('every create, update and delete appears once, in order', async (t) => {
  const start = await drain()
  t.ok(start.seen.some((c) => c.entity === 'region' && c.key === '331003' && c.op === 'upsert'))
  t.ok(start.seen.some((c) => c.entity === 'indicator' && c.key === 'hardship-subsidy-coverage'))

  await createPlan(app)
  const targets = await call(app, 'PUT', '/v1/plans/huangyan-14th-fyp/targets', {
    targets: [{ regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2025, value: 99 }]
  })
  t.equal(targets.statusCode, 200)
  const targetId = String(json(targets).items[0].id)
  const created = await call(app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode: 'hardship-subsidy-coverage', year: 2021, value: 97 })
  const id = String(json(created).id)
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { value: 98 })).statusCode, 200)
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { value: 98 })).statusCode, 200, 'a patch that changes nothing')
  t.equal((await call(app, 'DELETE', `/v1/values/${id}`)).statusCode, 204)
  t.equal((await call(app, 'DELETE', '/v1/plans/huangyan-14th-fyp')).statusCode, 204)

  const { seen, cursor } = await drain(start.cursor, 2)
  t.same(seen.map((c) => [c.entity, c.key, c.op, c.revision]), [
    ['plan', 'huangyan-14th-fyp', 'upsert', 1],
    ['target', targetId, 'upsert', 1],
    ['value', id, 'upsert', 1],
    ['value', id, 'upsert', 2],
    ['value', id, 'delete', 2],
    // deleting the plan deletes its target table with it (cascade): both appear
    ['plan', 'huangyan-14th-fyp', 'delete', 1],
    ['target', targetId, 'delete', 1]
  ], 'the writes, in order, with no entry for the no-op patch')
  t.ok(seen.every((c) => /^[0-9a-f]{12}$/.test(c.actor)), 'the actor is the id of the token that wrote')
  t.ok(seen.every((c) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(c.at) && !Number.isNaN(Date.parse(c.at))), 'at is RFC 3339 in UTC on either driver')
  t.equal(new Set(seen.map((c) => c.cursor)).size, seen.length, 'cursors are unique')

  const again = await poll(cursor)
  t.same(again.items, [], 'nothing new')
  t.equal(again.nextCursor, cursor, 'an empty page hands back the same cursor')
  t.equal(again.hasMore, false)
})

t.test('bad cursors are 400', async (t) => {
  const cursors = ['not-a-cursor', '["abc",1]', '[1,1]', '["5",1,"x"]', '["5",1,2,3]', '["5",1.5,0]', '["5",-1]']
  for (const text of cursors) {
    const after = text.startsWith('[') ? Buffer.from(text).toString('base64url') : text
    const res = await app.inject(`/v1/changes?after=${after}`)
    t.equal(res.statusCode, 400, text)
    t.equal(json(res).code, 'INVALID_CURSOR')
    t.same(json(res).errors.map((e: { field: string }) => e.field), ['/query/after'], `${text}: the problem names the parameter`)
  }
  t.equal((await app.inject('/v1/changes?limit=0')).statusCode, 400)
})

t.test('a poller misses nothing while concurrent writers commit out of order', async (t) => {
  const { cursor: start } = await drain()
  const writers = 4
  const perWriter = 12
  const committed = new Set<string>()
  let writing = true

  // Each transaction inserts one actual, then waits a random time before committing, so
  // transactions that started later often commit earlier.
  const writer = async (w: number) => {
    for (let i = 0; i < perWriter; i++) {
      const id = await writeTransaction(app.db, `writer-${w}`, async (tx) => {
        const [row] = await queryRows<{ id: string }>(tx, sql`
          insert into yearly_values (kind, region_code, indicator_code, from_year, year, value, note)
          values ('actual', '331003', 'hardship-subsidy-coverage', ${2000 + i}, ${2000 + i}, 50, ${`w${w}`})
          on conflict on constraint yearly_values_natural_key do update set value = yearly_values.value + 0.01, revision = yearly_values.revision + 1
          returning id::text as id, revision`)
        await sleep(Math.floor(Math.random() * 40))
        return row!.id
      })
      committed.add(id)
    }
  }
  const seen: Change[] = []
  const poller = (async () => {
    let cursor = start
    for (;;) {
      const done = !writing
      const page = await poll(cursor, 5)
      seen.push(...page.items)
      cursor = page.nextCursor
      if (done && !page.hasMore) return
      if (!page.hasMore) await sleep(5)
    }
  })()
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)))
  // The poller stops at the first page without more once the writers are done, so the feed
  // must first serve all they committed (see feedSettled).
  await feedSettled(app)
  writing = false
  await poller

  const upserts = seen.filter((c) => c.entity === 'value')
  const stored = await queryRows<{ id: string, revision: number }>(app.db, sql`select id::text as id, revision from yearly_values where region_code = '331003' and from_year < 2020`)
  const expected = new Set(stored.flatMap((r) => Array.from({ length: r.revision }, (_, i) => `${r.id}@${i + 1}`)))
  const got = upserts.map((c) => `${c.key}@${c.revision}`)
  t.equal(new Set(got).size, got.length, 'no change is served twice')
  t.same(new Set(got), expected, 'every committed revision was seen by the poller')
  t.same(new Set(upserts.map((c) => c.key)), committed)
  t.equal(expected.size, writers * perWriter, 'each writer transaction produced one revision')
})

t.test('the feed orders transactions as numbers, not as text (9 before 10)', async (t) => {
  // Transaction ids compare as numbers; sorted as text '10' would come before '9' and a
  // poller past '9' would never see '10'. Two old transactions, written out of order:
  await queryRows(app.db, sql`insert into changes (txid, entity, op, keys, revisions, actor)
    values ('10'::xid8, 'region', 'upsert', '{txid-10}', '{1}', 'system'), ('9'::xid8, 'region', 'upsert', '{txid-9}', '{1}', 'system')`)
  const { seen } = await drain(undefined, 1)
  const keys = seen.map((c) => c.key).filter((k) => k.startsWith('txid-'))
  t.same(keys, ['txid-9', 'txid-10'], 'both served once, 9 first, even one page at a time')
  const txids = seen.map((c) => BigInt(JSON.parse(Buffer.from(c.cursor, 'base64url').toString())[0]))
  t.ok(txids.every((x, i) => i === 0 || txids[i - 1]! <= x), 'the whole feed is in numeric transaction order')
})

t.test('a bulk import is one feed row but one change per value, and pages may split it', async (t) => {
  await createIndicator(app, { code: 'feed-bulk' })
  const { cursor: start } = await drain()
  const values = Array.from({ length: 250 }, (_, i) => ({ kind: 'actual', regionCode: i % 2 === 0 ? '331003' : '331004', indicatorCode: 'feed-bulk', year: 1950 + (i >> 1), value: 50 }))
  const res = await call(app, 'POST', '/v1/values/import', { values })
  t.equal(res.statusCode, 200, res.body)
  const [rows] = await queryRows<{ n: number }>(app.db, sql`select count(*)::int as n from changes where 'value' = entity and cardinality(keys) >= 250`)
  t.equal(rows!.n, 1, 'the statement wrote one feed row holding all 250 keys')

  const { seen, cursor } = await drain(start, 7)
  const ids = (await queryRows<{ id: string }>(app.db, sql`select id::text as id from yearly_values where indicator_code = 'feed-bulk' order by yearly_values.id`)).map((r) => r.id)
  t.same(seen.map((c) => c.key), ids, 'each value once, in order, across pages of 7 that start and end inside the row')
  t.ok(seen.every((c) => c.entity === 'value' && c.op === 'upsert' && c.revision === 1))
  t.equal(new Set(seen.map((c) => c.cursor)).size, seen.length, 'every change has its own cursor')
  t.same((await poll(cursor)).items, [], 'nothing is left after the last cursor')

  // Resuming from a cursor in the middle of the row serves exactly the rest of it.
  const middle = seen[100]!.cursor
  const rest = await drain(middle, 1000)
  t.same(rest.seen.map((c) => c.key), ids.slice(101))
})

t.test('a cursor of the earlier two-element form still resumes after its row', async (t) => {
  await createIndicator(app, { code: 'old-cursor-probe' })
  const { seen } = await drain(undefined, 1000)
  const probe = seen.find((c) => c.key === 'old-cursor-probe')!
  const [txid, id] = JSON.parse(Buffer.from(probe.cursor, 'base64url').toString()) as [string, number, number]
  const old = Buffer.from(JSON.stringify([txid, id])).toString('base64url')
  const before = seen.indexOf(probe)
  const after = await drain(old, 1000)
  t.same(after.seen.map((c) => c.cursor), seen.slice(before + 1).map((c) => c.cursor), 'continues right after the row')
  const bad = await app.inject(`/v1/changes?after=${Buffer.from(JSON.stringify([txid, id, -1])).toString('base64url')}`)
  t.equal(bad.statusCode, 400, 'a negative position is not a cursor')
})
