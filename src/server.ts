// Startup order (issue #7). Opening the embedded database (PostgreSQL compiled to
// WebAssembly: about 1 s to reopen, 5-8 s to create) starts first, before the rest of the
// service is even imported, and the modules (2-3 s through tsx: TypeBox alone is some 700
// ES modules) load while it opens. Hence nothing but PGlite is imported before it starts.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import type { Database } from './db/client.ts'
import { createEmbedded } from './db/embedded.ts'

/**
 * The embedded database, opening from the same variables the configuration reads
 * (DATABASE_URL unset, DATA_DIR); main() checks them against the validated configuration.
 * PGlite is imported only here and only when it is used (on PostgreSQL it would cost
 * some 40 MB of memory for nothing).
 */
const early = await (async () => {
  if ((process.env.DATABASE_URL ?? '') !== '') return undefined
  // PGlite is a 10 MB WebAssembly module whose hot functions V8 recompiles with its
  // optimizing compiler (TurboFan) on background threads while PostgreSQL starts: on a
  // two-core machine that competed with the start itself and at times blocked the main
  // thread (some 0.2 s idle in a profile, waiting on a V8 lock). Measured here (median of 7
  // restarts to "ready"): 1.98 s with tiering, 1.57 s with V8's baseline compiler alone;
  // first start 8.7-9.8 s -> 6.2-7.9 s; single-row queries on the embedded database were
  // as fast or faster, a grouped join over all values some 10-20% slower (issue #7).
  // Set before PGlite is loaded; it concerns WebAssembly only.
  v8.setFlagsFromString('--liftoff-only')
  const dataDir = process.env.DATA_DIR || './data'
  const dir = path.resolve(dataDir)
  try {
    const { PGlite } = await import('@electric-sql/pglite')
    const creating = !existsSync(path.join(dir, 'PG_VERSION'))
    mkdirSync(dir, { recursive: true })
    const open = createEmbedded(PGlite, dir)
    open.catch(() => {}) // awaited in main(); a failure surfaces there
    return { dataDir, creating, open }
  } catch {
    return undefined // main() opens it again and reports why it cannot
  }
})()

async function isEmpty (database: Database): Promise<boolean> {
  const { regions } = await import('./db/schema.ts')
  const rows = await database.db.select({ code: regions.code }).from(regions).limit(1)
  return rows.length === 0
}

async function main () {
  const [{ default: Fastify }, { createLogDestination }, { ConfigError, hardeningOf, loadConfig }, { openDatabase }, { buildOptions }, { ApiError }, { sendProblem }] = await Promise.all([
    import('fastify'), import('./lib/log-destination.ts'), import('./config.ts'), import('./db/client.ts'), import('./options.ts'), import('./errors/catalogue.ts'), import('./errors/problem.ts')
  ])
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(err.message)
    // Let a database being created finish, so no half-made data folder is left behind.
    if (early !== undefined) await early.open.then((db) => db.close(), () => {})
    process.exit(1)
  }
  // Fastify's own 503 while closing is plain JSON: draining is answered below instead.
  const options = buildOptions(config)
  // Log lines go to stdout; request lines in blocks while serving (see log-destination.ts).
  const destination = createLogDestination()
  if (typeof options.logger === 'object') options.logger = { ...options.logger, ...destination.options }
  const server = Fastify({ ...options, return503OnClosing: false })
  const log = server.log
  // Since the process started (performance.now() counts from then), boot included.
  const elapsedMs = () => Math.round(performance.now())

  const embedded = config.DATABASE_URL === undefined
  const opened = embedded && early !== undefined && early.dataDir === config.DATA_DIR ? early : undefined
  if (early !== undefined && opened === undefined) await early.open.then((db) => db.close(), () => {})
  const creating = embedded && (opened?.creating ?? !existsSync(path.join(config.DATA_DIR, 'PG_VERSION')))
  if (creating) {
    log.info({ database: `embedded PGlite in ${config.DATA_DIR}` }, 'first start: creating the embedded database, then applying migrations and loading the seed dataset; this takes about 10 s')
  } else {
    log.info({ database: embedded ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL' }, 'opening the database')
  }
  const opening = (async () => openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.DB_POOL_MAX,
    logger: log as never,
    pglite: opened !== undefined ? await opened.open : undefined
  }))()
  const modules = Promise.all([import('./app.ts'), import('./seed/load.ts')])
  modules.catch(() => {}) // awaited below; a failure surfaces there
  let database: Database
  try {
    database = await opening
  } catch (err) {
    await modules.catch(() => {})
    throw err
  }
  const [{ default: app }, { loadSeed }] = await modules.catch(async (err: unknown) => {
    await database.close()
    throw err
  })
  await database.migrate()
  log.info({ elapsedMs: elapsedMs() }, 'database open, migrations applied')
  if (embedded && config.SEED_ON_FIRST_START && await isEmpty(database)) {
    log.info('empty embedded database: loading the seed dataset (national regions, indicators, five plans); this takes a few seconds')
    const summary = await loadSeed(database.db, log as never)
    log.info({ summary, elapsedMs: elapsedMs() }, 'seed dataset loaded')
  }

  // Draining: a request that reaches the server after SIGTERM (on a connection opened
  // before) gets a 503 problem+json and the connection is closed; requests already inside
  // complete. Registered first, so nothing else (auth, database) runs for it.
  let closing = false
  // (A callback hook: it runs on every request; answering without calling done() ends it.)
  server.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done()
    reply.header('connection', 'close')
    sendProblem(reply, request, new ApiError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry the request.', { headers: { 'retry-after': '1' } }))
  })
  await server.register(app, { database, auth: { readsRequireToken: config.READS_REQUIRE_TOKEN, pepper: config.TOKEN_PEPPER }, hardening: hardeningOf(config) })
  if (config.BOOTSTRAP_ADMIN_TOKEN !== undefined) {
    await server.ready()
    const outcome = await server.tokens.bootstrapAdmin(config.BOOTSTRAP_ADMIN_TOKEN)
    log.info({ outcome }, 'bootstrap admin token checked (BOOTSTRAP_ADMIN_TOKEN)')
  }

  const shutdown = async (signal: string) => {
    if (closing) {
      log.warn({ signal }, 'second signal while shutting down; still draining')
      return
    }
    closing = true
    destination.setServing(false)
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
    // Exit now rather than when the event loop runs dry: Node's own teardown after that
    // (freeing the heap) runs with the signal handlers already gone, so a second SIGTERM
    // landing in it killed the process by signal instead of letting it exit 0
    // (test/faults/sigterm.faults.ts, once the drain took about as long as the gap between
    // the two signals). Held log lines are written by the destination's exit handler.
    process.exit()
  }
  process.on('SIGTERM', (s) => { shutdown(s).catch(() => {}) })
  process.on('SIGINT', (s) => { shutdown(s).catch(() => {}) })

  await server.listen({ port: config.PORT, host: config.HOST })
  log.info({ elapsedMs: elapsedMs() }, 'ready')
  destination.setServing(true)
}

main().catch((err: unknown) => {
  console.error('failed to start:', err)
  process.exit(1)
})
