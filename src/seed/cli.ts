// npm run seed                      load the seed dataset (regions, indicators, plans, values)
// npm run seed -- --townships 33    also import every township of a province (or a
//                                   prefecture/county code prefix such as 3306 or 330683)
// Uses DATABASE_URL when set, else the embedded database in DATA_DIR.
import { parseArgs } from 'node:util'
import pino from 'pino'
import { loadConfig } from '../config.ts'
import { openDatabase } from '../db/client.ts'
import { loadSeed, loadTownships } from './load.ts'

const { values: args } = parseArgs({
  options: {
    townships: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (args.help === true) {
  console.log('usage: npm run seed [-- --townships <province|prefecture|county code prefix> ...]')
  process.exit(0)
}

const config = loadConfig()
const log = pino({ level: config.LOG_LEVEL })
const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 2, logger: log })
try {
  await database.migrate()
  const summary = await loadSeed(database.db, log)
  log.info({ summary }, 'seed loaded')
  for (const prefix of args.townships ?? []) {
    if (!/^[0-9]{2}([0-9]{2}){0,2}$/.test(prefix)) throw new Error(`--townships takes a 2-, 4- or 6-digit code prefix, not ${prefix}`)
    log.info({ prefix, summary: await loadTownships(database.db, prefix) }, 'townships imported')
  }
} catch (err) {
  log.error({ err: err instanceof Error ? { message: err.message } : err }, 'seeding failed')
  process.exitCode = 1
} finally {
  await database.close()
}
