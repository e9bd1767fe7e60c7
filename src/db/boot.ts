// The embedded database (PostgreSQL compiled to WebAssembly) takes about 1 s to reopen and
// 5-8 s to create; the service's modules take about as long to load. src/server.ts calls
// preopen() before it imports anything else, so both happen at once: this file imports
// nothing at load time but Node's own modules and the PGlite settings.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'
import type { PGlite } from '@electric-sql/pglite'
import type { Logger } from 'pino'
import type { Config, ReplicaConfig } from '../config.ts'
import type { Database } from './client.ts'
import { createEmbedded } from './embedded.ts'

/** An embedded database being opened ahead of the configuration being read. */
export interface Preopened {
  dataDir: string
  /** The data folder did not exist: this start creates the database. */
  creating: boolean
  open: Promise<PGlite>
}

/**
 * Starts opening the embedded database from the variables the configuration reads
 * (DATABASE_URL unset, DATA_DIR); bootDatabase() checks them against the validated
 * configuration. PGlite is imported only here and only when it is used (on PostgreSQL it
 * would cost some 40 MB of memory for nothing). Undefined on PostgreSQL, or when PGlite
 * cannot be loaded (bootDatabase() opens it again and reports why it cannot).
 */
export async function preopen (env: Record<string, string | undefined> = process.env): Promise<Preopened | undefined> {
  if ((env.DATABASE_URL ?? '') !== '') return undefined
  // PGlite is a 10 MB WebAssembly module whose hot functions V8 recompiles with its
  // optimizing compiler (TurboFan) on background threads while PostgreSQL starts: on a
  // two-core machine that competes with the start itself and at times blocks the main
  // thread (some 0.2 s idle in a profile, waiting on a V8 lock). With V8's baseline
  // compiler alone a restart is some 0.4 s faster (median of 7 restarts, 1.98 s -> 1.57 s)
  // and a first start 2 s faster; single-row queries are as fast or faster, a grouped join
  // over all values some 10-20% slower. Set before PGlite is loaded; it concerns WebAssembly only.
  v8.setFlagsFromString('--liftoff-only')
  const dataDir = env.DATA_DIR || './data'
  const dir = path.resolve(dataDir)
  try {
    const { PGlite } = await import('@electric-sql/pglite')
    const creating = !existsSync(path.join(dir, 'PG_VERSION'))
    mkdirSync(dir, { recursive: true })
    const open = createEmbedded(PGlite, dir)
    open.catch(() => {}) // awaited by bootDatabase() or discard(); a failure surfaces there
    return { dataDir, creating, open }
  } catch {
    return undefined
  }
}

/** Closes a database preopened for nothing, once it is open: no half-made data folder is left. */
export async function discard (preopened: Preopened | undefined): Promise<void> {
  if (preopened !== undefined) await preopened.open.then((db) => db.close(), () => {})
}

async function isEmpty (database: Database): Promise<boolean> {
  const { regions } = await import('./schema.ts')
  const rows = await database.db.select({ code: regions.code }).from(regions).limit(1)
  return rows.length === 0
}

export type BootConfig = Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DB_POOL_MAX' | 'SEED_ON_FIRST_START'> & ReplicaConfig

/**
 * The configured database, open and migrated; an embedded database created by this start
 * gets the seed dataset (SEED_ON_FIRST_START). Uses the preopened embedded database when it
 * is the configured one, and closes it when it is not.
 */
export async function bootDatabase (config: BootConfig, log: Logger, preopened: Preopened | undefined): Promise<Database> {
  // Since the process started (performance.now() counts from then), module loading included.
  const elapsedMs = () => Math.round(performance.now())
  const embedded = config.DATABASE_URL === undefined
  const opened = embedded && preopened?.dataDir === config.DATA_DIR ? preopened : undefined
  if (opened === undefined) await discard(preopened)
  const creating = embedded && (opened?.creating ?? !existsSync(path.join(config.DATA_DIR, 'PG_VERSION')))
  if (creating) {
    log.info({ database: `embedded PGlite in ${config.DATA_DIR}` }, 'first start: creating the embedded database, then applying migrations and loading the seed dataset; this takes about 10 s')
  } else {
    log.info({ database: embedded ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL' }, 'opening the database')
  }
  const [{ openDatabase }, { replicaOptionsOf }] = await Promise.all([import('./client.ts'), import('../config.ts')])
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolMax: config.DB_POOL_MAX,
    replicas: replicaOptionsOf(config),
    logger: log,
    pglite: opened !== undefined ? await opened.open : undefined
  })
  try {
    await database.migrate()
    log.info({ elapsedMs: elapsedMs() }, 'database open, migrations applied')
    if (embedded && config.SEED_ON_FIRST_START && await isEmpty(database)) {
      log.info('empty embedded database: loading the seed dataset (national regions, indicators, five plans); this takes a few seconds')
      const { loadSeed } = await import('../seed/load.ts')
      const summary = await loadSeed(database.db, log)
      log.info({ summary, elapsedMs: elapsedMs() }, 'seed dataset loaded')
    }
  } catch (err) {
    await database.close()
    throw err
  }
  return database
}
