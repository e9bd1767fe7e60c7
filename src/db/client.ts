import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { PGlite } from '@electric-sql/pglite'
import { sql, type ExtractTablesWithRelations } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import pg from 'pg'
import { fromRoot } from '../paths.ts'
import type { Logger } from 'pino'
import { schema } from './schema.ts'
import { createEmbedded } from './embedded.ts'
import { queryRows } from './query.ts'
import { createReadRouter, type ReadRouter, type ReplicaOptions } from './read-router.ts'
import { parseLsn } from './wal-position.ts'

export type Schema = typeof schema
/** What repositories take: the database or a transaction on it, whichever driver. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>

export const migrationsFolder = fromRoot('migrations')

export interface Database {
  db: Db
  driver: 'pg' | 'pglite'
  /** Applies pending migrations (serialised across instances on PostgreSQL). */
  migrate: () => Promise<void>
  /** True when every committed migration has been applied. */
  migrationsApplied: () => Promise<boolean>
  /** Throws when the database cannot answer. */
  ping: () => Promise<void>
  /**
   * The primary's WAL position now (PostgreSQL `pg_lsn` text): asked after a request's
   * writes have committed, it is at or past every one of their commit records.
   */
  commitPosition: () => Promise<string>
  /** Where safe reads go when replicas are configured (PostgreSQL with DATABASE_READ_URL). */
  readRouter?: ReadRouter
  close: () => Promise<void>
  /** Connection pool counts (PostgreSQL only; the embedded database has no pool). */
  poolStats?: () => PoolStats
}

export interface PoolStats { total: number, idle: number, waiting: number, max: number }

export interface DatabaseOptions {
  databaseUrl?: string
  dataDir: string
  poolMax?: number
  logger: Logger
  /** An already open PGlite (tests hand in a copy of a migrated template). */
  pglite?: PGlite
  /** Read replicas (PostgreSQL only). */
  replicas?: ReplicaOptions
}

const MIGRATIONS_LOCK = 7_301_402_118 // pg_advisory_lock key: one migrator at a time

export async function openDatabase (options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl !== undefined
    ? openPostgres(options.databaseUrl, options.poolMax ?? 10, options.logger, options.replicas)
    : openPglite(options)
}

/**
 * The insert position, not the write or flush position: with synchronous_commit off a
 * commit returns before its record is written, and only the insert position is sure to
 * be past it. (Right after a WAL page header it is the header's size past the last
 * record's end, so replicas count as behind until the next WAL record; reads carrying it
 * go to the primary meanwhile, which is correct, only not offloaded.)
 */
const POSITION_SQL = 'select pg_current_wal_insert_lsn()::text as lsn'

async function openPostgres (connectionString: string, max: number, logger: Logger, replicas: ReplicaOptions | undefined): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 })
  // An idle or checked-out client whose server goes away emits 'error'; without these
  // listeners the process would die on a PostgreSQL restart.
  pool.on('error', (err) => logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database client failed'))
  pool.on('connect', (client) => {
    client.on('error', (err) => logger.warn({ err: { message: err.message } }, 'database client failed'))
  })
  const db = drizzlePg(pool, { schema }) as unknown as Db
  const readRouter = replicas !== undefined && replicas.urls.length > 0 ? createReadRouter({ pool, db }, replicas, logger) : undefined
  return {
    db,
    driver: 'pg',
    readRouter,
    async migrate () {
      const client = await pool.connect()
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATIONS_LOCK])
        try {
          await migratePg(drizzlePg(client, { schema }), { migrationsFolder })
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATIONS_LOCK])
        }
        // Replicas answer this process's reads only once they have the schema it expects.
        if (readRouter !== undefined) readRouter.setFloor(parseLsn((await client.query<{ lsn: string }>(POSITION_SQL)).rows[0]!.lsn)!)
      } finally {
        client.release()
      }
    },
    migrationsApplied: () => migrationsApplied(db),
    async ping () { await pool.query('select 1') },
    async commitPosition () { return (await pool.query<{ lsn: string }>({ name: 'commit_position', text: POSITION_SQL })).rows[0]!.lsn },
    async close () {
      await readRouter?.close()
      if (!pool.ended) await pool.end()
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max })
  }
}

async function openPglite (options: DatabaseOptions): Promise<Database> {
  // Loaded only for the embedded database: PGlite's module alone adds some 40 MB to the
  // process, which a service on PostgreSQL has no use for.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'), import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')
  ])
  let client = options.pglite
  if (client === undefined) {
    const dir = path.resolve(options.dataDir)
    await mkdir(dir, { recursive: true })
    client = await createEmbedded(PGlite, dir)
  }
  const pglite = client
  const db = drizzlePglite(pglite, { schema }) as unknown as Db
  return {
    db,
    driver: 'pglite',
    async migrate () {
      await migratePglite(drizzlePglite(pglite, { schema }), { migrationsFolder })
    },
    migrationsApplied: () => migrationsApplied(db),
    async ping () { await pglite.query('select 1') },
    // No replica reads the embedded database; the position is still answered, so a client
    // works the same against either and may send it back.
    async commitPosition () { return (await pglite.query<{ lsn: string }>(POSITION_SQL)).rows[0]!.lsn },
    async close () { if (!pglite.closed) await pglite.close() }
  }
}

const expectedMigrations = readMigrationFiles({ migrationsFolder }).length

async function migrationsApplied (db: Db): Promise<boolean> {
  try {
    const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
    return Number(rows[0]?.n) >= expectedMigrations
  } catch {
    return false
  }
}
