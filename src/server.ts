import Fastify from 'fastify'
import app from './app.ts'
import { ConfigError, hardeningOf, loadConfig } from './config.ts'
import { openDatabase, type Database } from './db/client.ts'
import { regions } from './db/schema.ts'
import { loadSeed } from './seed/load.ts'
import { buildOptions } from './options.ts'

async function isEmpty (database: Database): Promise<boolean> {
  const rows = await database.db.select({ code: regions.code }).from(regions).limit(1)
  return rows.length === 0
}

async function main () {
  const config = loadConfig()
  const server = Fastify(buildOptions(config))
  const log = server.log

  const embedded = config.DATABASE_URL === undefined
  log.info({ database: embedded ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL' }, 'opening the database')
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: config.DB_POOL_MAX, logger: log as never })
  await database.migrate()
  log.info('migrations applied')
  if (embedded && config.SEED_ON_FIRST_START && await isEmpty(database)) {
    log.info('first start on an empty embedded database: loading the seed dataset (national regions, indicators, five plans); this takes a few seconds')
    const summary = await loadSeed(database.db, log as never)
    log.info({ summary }, 'seed dataset loaded')
  }

  await server.register(app, { database, auth: { readsRequireToken: config.READS_REQUIRE_TOKEN, pepper: config.TOKEN_PEPPER }, hardening: hardeningOf(config) })
  if (config.BOOTSTRAP_ADMIN_TOKEN !== undefined) {
    await server.ready()
    const outcome = await server.tokens.bootstrapAdmin(config.BOOTSTRAP_ADMIN_TOKEN)
    log.info({ outcome }, 'bootstrap admin token checked (BOOTSTRAP_ADMIN_TOKEN)')
  }

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) {
      log.warn({ signal }, 'second signal while shutting down; still draining')
      return
    }
    closing = true
    log.info({ signal }, 'shutting down: draining requests, then closing the database')
    const timer = setTimeout(() => {
      log.error('shutdown took longer than 10 s; exiting')
      process.exit(1)
    }, 10_000)
    timer.unref()
    try {
      await server.close()
      process.exitCode = 0
    } catch (err) {
      log.error({ err }, 'error while shutting down')
      process.exitCode = 1
    }
  }
  process.on('SIGTERM', (s) => { shutdown(s).catch(() => {}) })
  process.on('SIGINT', (s) => { shutdown(s).catch(() => {}) })

  await server.listen({ port: config.PORT, host: config.HOST })
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message)
  } else {
    console.error('failed to start:', err)
  }
  process.exit(1)
})
