import { sql } from 'drizzle-orm'
import t from 'tap'
import { queryRows } from '../src/db/query.ts'
import { freshDatabase } from './helper.ts'

// The embedded database opens with the service's own settings (src/db/embedded.ts), through
// the same path as `npm start` (openDatabase on a data folder).
t.test('the embedded database runs with a 32 MB buffer pool', { skip: process.env.DATABASE_URL ? 'PostgreSQL server: its settings are its own' : false }, async (t) => {
  const { database, drop } = await freshDatabase()
  t.teardown(drop)
  t.equal(database.driver, 'pglite')
  const [row] = await queryRows<{ shared_buffers: string }>(database.db, sql`show shared_buffers`)
  t.equal(row?.shared_buffers, '32MB')
})
