import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import pg from 'pg'
import pino from 'pino'
import t from 'tap'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { migrationsFolder, openDatabase, type Database } from '../src/db/client.ts'
import { queryRows } from '../src/db/query.ts'
import { createEmbedded } from '../src/db/embedded.ts'
import { createChangesRepository } from '../src/modules/changes/changes.repository.ts'
import { feedSettled } from './helper.ts'

// Upgrading a database that already holds data: migration 0006 turns the feed's one row
// per change into one row per statement. A poller must still see every earlier change,
// with its key and revision, and the tables must keep working afterwards.

/** A copy of migrations/ holding only the migrations before `tag`. */
async function migrationsBefore (tag: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ir-migrations-'))
  await cp(migrationsFolder, dir, { recursive: true })
  const journalPath = path.join(dir, 'meta', '_journal.json')
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ tag: string }> }
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag))
  await writeFile(journalPath, JSON.stringify(journal))
  return dir
}

const silent = pino({ level: 'silent' })
const databaseUrl = process.env.DATABASE_URL
const older = await migrationsBefore('0006_set_based_feed_and_references')
t.teardown(() => rm(older, { recursive: true, force: true }))

let database: Database
if (databaseUrl !== undefined && databaseUrl !== '') {
  const name = `ir_test_migrations_${process.pid}`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`drop database if exists ${name} with (force)`)
  await admin.query(`create database ${name}`)
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  await migratePg(drizzlePg(client), { migrationsFolder: older })
  await client.end()
  database = await openDatabase({ databaseUrl: url.toString(), dataDir: '', logger: silent })
  t.teardown(async () => {
    await database.close()
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  })
} else {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ir-migrations-db-'))
  const pglite = await createEmbedded(PGlite, dir)
  await migratePglite(drizzlePglite(pglite), { migrationsFolder: older })
  database = await openDatabase({ dataDir: dir, logger: silent, pglite })
  t.teardown(async () => {
    await database.close()
    await rm(dir, { recursive: true, force: true })
  })
}
const db = database.db

t.test('feed entries written before 0006 are served after it, once each', async (t) => {
  // The schema of 0005: one feed row per change, written by the 0003 triggers.
  await queryRows(db, sql`insert into regions (code, name, level) values ('330000', '浙江省', 'province')`)
  await queryRows(db, sql`insert into indicators (code, name, domain, unit, aggregation, direction) values ('new-employment', '新增就业', 'employment', 'persons', 'sum', 'increase')`)
  await queryRows(db, sql`insert into yearly_values (kind, region_code, indicator_code, from_year, year, value)
    values ('actual', '330000', 'new-employment', 2021, 2021, 10), ('actual', '330000', 'new-employment', 2022, 2022, 11)`)
  await queryRows(db, sql`update yearly_values set value = 12, revision = revision + 1 where year = 2022`)
  const [{ n } = { n: 0 }] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from changes`)
  t.equal(n, 5, 'five changes in the old one-per-row form')

  await database.migrate()
  t.ok(await database.migrationsApplied())
  const repo = createChangesRepository(db)
  await feedSettled(database)
  const served = await repo.after(undefined, 100)
  t.same(served.map((c) => [c.entity, c.key, c.op, c.revision, c.n]), [
    ['region', '330000', 'upsert', 1, 1],
    ['indicator', 'new-employment', 'upsert', 1, 1],
    ['value', served[2]!.key, 'upsert', 1, 1],
    ['value', served[3]!.key, 'upsert', 1, 1],
    ['value', served[3]!.key, 'upsert', 2, 1]
  ], 'each old change once, with its key and revision, in the same order')

  // Writes after the upgrade go into the new form and follow the old ones.
  await queryRows(db, sql`insert into yearly_values (kind, region_code, indicator_code, from_year, year, value)
    values ('actual', '330000', 'new-employment', 2023, 2023, 13), ('actual', '330000', 'new-employment', 2024, 2024, 14)`)
  const last = served[served.length - 1]!
  const next = await repo.after({ txid: last.txid, id: last.id, n: last.n }, 100)
  t.same(next.map((c) => [c.entity, c.n]), [['value', 1], ['value', 2]], 'one statement, one row, two changes')
  const refused = await queryRows(db, sql`delete from regions where code = '330000'`).then(() => undefined, (err: { cause?: { code?: string } }) => err.cause?.code)
  t.equal(refused, '23503', 'references hold on the upgraded tables')
})

t.test('instances starting together on a fresh database apply each migration once', {
  skip: databaseUrl === undefined || databaseUrl === '' ? 'the embedded database is opened by one process only' : false
}, async (t) => {
  const name = `ir_test_migrate_together_${process.pid}`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`drop database if exists ${name} with (force)`)
  await admin.query(`create database ${name}`)
  const url = new URL(databaseUrl!)
  url.pathname = `/${name}`
  // Each with its own pool, as separate instances have.
  const instances = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ databaseUrl: url.toString(), dataDir: '', logger: silent, poolMax: 2 })))
  t.teardown(async () => {
    await Promise.all(instances.map((d) => d.close()))
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  })

  const outcomes = await Promise.allSettled(instances.map((d) => d.migrate()))
  t.same(outcomes.map((o) => o.status === 'rejected' ? String(o.reason) : o.status), instances.map(() => 'fulfilled'), 'every instance\'s migrate() succeeds')
  const expected = readMigrationFiles({ migrationsFolder }).map((m) => m.hash)
  const applied = await queryRows<{ hash: string }>(instances[0]!.db, sql`select hash from drizzle.__drizzle_migrations order by id`)
  t.same(applied.map((r) => r.hash), expected, 'each migration recorded once, in order')
  for (const d of instances) t.ok(await d.migrationsApplied())
})
