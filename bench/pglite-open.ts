// Baseline of the embedded-start benchmark: a process that only opens (or creates) the
// embedded database in a folder and answers one query, then prints how long that took
// since the process started. Run the same way as the service (node --import tsx).
//
//   node --import tsx bench/pglite-open.ts <data dir>
import { PGlite } from '@electric-sql/pglite'

const db = await PGlite.create(process.argv[2]!)
await db.query('select 1')
process.stdout.write(`ready ${Math.round(performance.now())}\n`)
await db.close()
