// The benchmark's bare route (bench/bare.ts) is the read path's limit only if it runs the
// very statements the service runs: captured here from the values repository as it
// prepares them on a PostgreSQL pool, and compared text for text.
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import t from 'tap'
import { POINT_SQL, SERIES_SQL } from '../bench/lib.ts'
import type { Db } from '../src/db/client.ts'
import { schema } from '../src/db/schema.ts'
import { createValuesRepository } from '../src/modules/values/values.repository.ts'

t.test('the bare route runs the SQL of the service\'s series and point reads', async (t) => {
  // Nothing listens on port 1: every statement is captured, none is sent.
  const pool = new pg.Pool({ connectionString: 'postgres://bench@127.0.0.1:1/none' })
  const sent: string[] = []
  pool.query = (async (query: { text: string }) => {
    sent.push(query.text)
    return { rows: [] }
  }) as never
  const values = createValuesRepository(drizzle(pool, { schema }) as unknown as Db)
  await values.list({ region: '331003', indicator: 'hardship-subsidy-coverage', breakdown: {}, limit: 100 })
  t.same(sent, [SERIES_SQL], 'series read')
  sent.length = 0
  await values.get(1)
  t.same(sent, [POINT_SQL], 'point read')
  await pool.end()
})
