// The database boot of `npm start` (src/db/boot.ts) on the embedded database: the first
// start creates, migrates and seeds it; a restart only opens it.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import pino from 'pino'
import t from 'tap'
import { queryRows } from '../src/db/query.ts'
import { bootDatabase, preopen } from '../src/db/boot.ts'
import { loadConfig } from '../src/config.ts'

const embeddedOnly = process.env.DATABASE_URL ? 'the embedded database only' : false

function capture () {
  const messages: string[] = []
  const log = pino({ level: 'info' }, new Writable({ write (chunk, _encoding, done) { messages.push(JSON.parse(String(chunk)).msg); done() } }))
  return { log, messages }
}

// The defaults of every setting (an empty environment: the embedded database), in `dir`.
const config = (dir: string) => ({ ...loadConfig({}), DATA_DIR: dir, DB_POOL_MAX: 1 })

t.test('first start: created, migrated and seeded; a restart opens it as it is', { skip: embeddedOnly }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'registry-boot-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))

  const first = capture()
  const preopened = await preopen({ DATA_DIR: dir })
  t.equal(preopened?.creating, true)
  const database = await bootDatabase(config(dir), first.log, preopened)
  const [counted] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from regions`)
  await database.close()
  t.ok(counted!.n > 3000, `the seed's national division list is loaded (${counted!.n} regions)`)
  t.match(first.messages.filter((m) => !m.startsWith('seed: ')), [/^first start: creating the embedded database/, 'database open, migrations applied', /^empty embedded database: loading the seed dataset/, 'seed dataset loaded'])

  const again = capture()
  const reopened = await preopen({ DATA_DIR: dir })
  t.equal(reopened?.creating, false)
  const restarted = await bootDatabase(config(dir), again.log, reopened)
  await restarted.close()
  t.same(again.messages, ['opening the database', 'database open, migrations applied'], 'nothing created or seeded again')
})

t.test('a database preopened in another folder than the configured one is closed, and the configured one opened', { skip: embeddedOnly }, async (t) => {
  const [elsewhere, configured] = await Promise.all([mkdtemp(path.join(os.tmpdir(), 'registry-boot-')), mkdtemp(path.join(os.tmpdir(), 'registry-boot-'))])
  t.teardown(() => Promise.all([rm(elsewhere, { recursive: true, force: true }), rm(configured, { recursive: true, force: true })]))
  const preopened = await preopen({ DATA_DIR: elsewhere })
  const { log } = capture()
  const database = await bootDatabase({ ...config(configured), SEED_ON_FIRST_START: false }, log, preopened)
  t.teardown(() => database.close())
  const pglite = await preopened!.open
  t.equal(pglite.closed, true, 'the one preopened for nothing is closed')
  const [row] = await queryRows<{ dir: string }>(database.db, sql`select current_setting('data_directory') as dir`)
  t.ok(row, 'the configured one answers')
})
