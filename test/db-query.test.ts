import t from 'tap'
import { sql } from 'drizzle-orm'
import { connectionOf, copyIn, copyOut, statement } from '../src/db/query.ts'
import { writeTransaction } from '../src/db/transaction.ts'
import { build } from './helper.ts'

// src/db/query.ts reaches the driver connection under drizzle's handles (not public API):
// these tests fail if a drizzle upgrade moves it, on either database.
const app = await build(t)

t.test('a transaction handle runs statements on the transaction\'s own connection', async (t) => {
  const actorIs = statement<{ same: boolean }>('test_actor_is', "select current_setting('registry.actor') = $1 as same")
  await writeTransaction(app.db, 'query-test', async (tx) => {
    t.not(connectionOf(tx), connectionOf(app.db), 'not the database\'s own pool or instance')
    t.same(await actorIs.run(tx, ['query-test']), [{ same: true }])
  })
  const unnamed = statement<{ n: number }>(undefined, 'select $1::int + 1 as n')
  t.same(await unnamed.run(app.db, [41]), [{ n: 42 }], 'an unnamed statement on the database handle')
})

t.test('COPY in, inside a transaction, and out, on both drivers', async (t) => {
  await app.db.execute(sql`create table copy_probe (n int primary key, label text)`)
  await writeTransaction(app.db, 'query-test', async (tx) => {
    const copy = copyIn(tx, 'copy_probe', ['n', 'label'])
    await copy.write('1\t黄岩区\n2\t\\N\n')
    await copy.write('3\tthree, "quoted"\n')
    await copy.end()
  })
  const csv = await copyOut(app.db, { sql: 'select n, label from copy_probe where n >= $1 order by n', params: [2] })
  const chunks: Buffer[] = []
  for await (const chunk of csv) chunks.push(Buffer.from(chunk as Uint8Array))
  t.equal(Buffer.concat(chunks).toString('utf8'), 'n,label\n2,\n3,"three, ""quoted"""\n')
  const [chinese] = (await app.db.execute(sql`select label from copy_probe where n = 1`) as unknown as { rows: Array<{ label: string }> }).rows
  t.equal(chinese?.label, '黄岩区', 'text other than ASCII arrives whole')

  await t.rejects(writeTransaction(app.db, 'query-test', async (tx) => {
    const copy = copyIn(tx, 'copy_probe', ['n', 'label'])
    await copy.write('4\tfour\n1\tagain\n')
    await copy.end()
  }), { code: '23505' }, 'a stored key fails the COPY with the server\'s unique violation')
  const [count] = (await app.db.execute(sql`select count(*)::int as n from copy_probe`) as unknown as { rows: Array<{ n: number }> }).rows
  t.equal(count?.n, 3, 'nothing of the failed COPY stays')
})
