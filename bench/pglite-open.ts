// Baseline of the embedded-start benchmark: a process that only opens (or creates) the
// embedded database in a folder and answers one query, then prints how long that took
// since the process started. Run the same way as the service (node --import tsx) and on
// the same WebAssembly compiler (Liftoff only, as src/server.ts sets it for the embedded
// database), with the same settings (src/db/embedded.ts), so the ratio compares the
// service's start with PGlite's, not two engines or two configurations.
//
//   node --import tsx bench/pglite-open.ts <data dir>
import v8 from 'node:v8'

v8.setFlagsFromString('--liftoff-only')
const [{ PGlite }, { createEmbedded }] = await Promise.all([import('@electric-sql/pglite'), import('../src/db/embedded.ts')])

const db = await createEmbedded(PGlite, process.argv[2]!)
await db.query('select 1')
process.stdout.write(`ready ${Math.round(performance.now())}\n`)
await db.close()
