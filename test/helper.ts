import { createHash, randomBytes } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import pino from 'pino'
import app, { type AppOptions } from '../src/app.ts'
import { migrationsFolder, openDatabase, type Database } from '../src/db/client.ts'
import { queryRows } from '../src/db/query.ts'
import { buildOptions } from '../src/options.ts'
import type { ImportsServiceOptions } from '../src/modules/imports/imports.service.ts'
import type { RateLimitOptions } from '../src/plugins/rate-limit.ts'
import type { ReplicaOptions } from '../src/db/read-router.ts'
import { loadSeed, seedFolder } from '../src/seed/load.ts'

/**
 * Test databases. Every test file gets a clean, migrated database of its own:
 * - PostgreSQL (DATABASE_URL set): CREATE DATABASE ... TEMPLATE of a migrated template;
 * - PGlite (default): a copy of a migrated template data folder.
 * Templates are built once per migration set (keyed by a hash of migrations/) under a lock,
 * so parallel test processes share them.
 */
const silent = pino({ level: 'silent' })

/**
 * Templates are rebuilt whenever the migrations, the seed data or the seed loader's code
 * (src/seed/, which derives data such as the regions' English names) change.
 */
async function templateHash (): Promise<string> {
  const hash = createHash('sha256')
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) await walk(full)
      else hash.update(entry.name).update(await readFile(full))
    }
  }
  await walk(migrationsFolder)
  await walk(fileURLToPath(seedFolder))
  await walk(fileURLToPath(new URL('../src/seed/', import.meta.url)))
  return hash.digest('hex').slice(0, 12)
}

const exists = async (p: string) => stat(p).then(() => true, () => false)

async function withDirLock<T> (lockDir: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      await mkdir(lockDir)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      // A lock older than two minutes belongs to a crashed run.
      const age = Date.now() - (await stat(lockDir).then((s) => s.mtimeMs, () => Date.now()))
      if (age > 120_000) await rm(lockDir, { recursive: true, force: true })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}

export type Flavour = 'empty' | 'seeded'

async function pgliteTemplate (flavour: Flavour): Promise<string> {
  const root = path.join(os.tmpdir(), 'indicator-registry-tests', await templateHash())
  const template = path.join(root, flavour)
  if (await exists(template)) return template
  await mkdir(root, { recursive: true })
  const base = flavour === 'seeded' ? await pgliteTemplate('empty') : undefined
  return withDirLock(path.join(root, `lock-${flavour}`), async () => {
    if (await exists(template)) return template
    const building = path.join(root, `building-${flavour}-${process.pid}`)
    await rm(building, { recursive: true, force: true })
    if (base !== undefined) await cp(base, building, { recursive: true })
    const database = await openDatabase({ dataDir: building, logger: silent })
    await prepare(database, flavour)
    await database.close()
    await rename(building, template)
    return template
  })
}

async function prepare (database: Database, flavour: Flavour) {
  await database.migrate()
  if (flavour === 'seeded') await loadSeed(database.db, silent)
}

async function pgAdmin<T> (databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl)
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.toString() })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

function withDatabase (databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  return url.toString()
}

async function pgTemplate (databaseUrl: string, flavour: Flavour): Promise<string> {
  const name = `ir_tpl_${await templateHash()}_${flavour}`
  const base = flavour === 'seeded' ? await pgTemplate(databaseUrl, 'empty') : undefined
  await pgAdmin(databaseUrl, async (client) => {
    await client.query('select pg_advisory_lock(4242001, $1)', [flavour === 'empty' ? 1 : 2])
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [name])
      if (found.rowCount === 0) {
        const building = `${name}_building`
        await client.query(`drop database if exists ${building} with (force)`)
        await client.query(`create database ${building}${base !== undefined ? ` template ${base}` : ''}`)
        const database = await openDatabase({ databaseUrl: withDatabase(databaseUrl, building), dataDir: '', logger: silent })
        await prepare(database, flavour)
        await database.close()
        await client.query(`alter database ${building} rename to ${name}`)
      }
    } finally {
      await client.query('select pg_advisory_unlock(4242001, $1)', [flavour === 'empty' ? 1 : 2])
    }
  })
  return name
}

/**
 * A clean migrated database for one test file; `drop` removes it. `replicas` (PostgreSQL
 * only) names read replicas for it, given its connection string.
 */
export async function freshDatabase (flavour: Flavour = 'empty', replicas?: (url: string) => ReplicaOptions): Promise<{ database: Database, drop: () => Promise<void>, url?: string, dataDir?: string }> {
  const databaseUrl = process.env.DATABASE_URL
  const unique = `${process.pid}_${randomBytes(4).toString('hex')}`
  if (databaseUrl !== undefined && databaseUrl !== '') {
    const template = await pgTemplate(databaseUrl, flavour)
    const name = `ir_test_${unique}`
    await pgAdmin(databaseUrl, (c) => c.query(`create database ${name} template ${template}`))
    const url = withDatabase(databaseUrl, name)
    const database = await openDatabase({ databaseUrl: url, dataDir: '', logger: silent, poolMax: 8, replicas: replicas?.(url) })
    return {
      database,
      url,
      drop: async () => {
        await database.close()
        await pgAdmin(databaseUrl, (c) => c.query(`drop database if exists ${name} with (force)`))
      }
    }
  }
  const template = await pgliteTemplate(flavour)
  const dir = path.join(os.tmpdir(), 'indicator-registry-tests', `db-${unique}`)
  await cp(template, dir, { recursive: true })
  const database = await openDatabase({ dataDir: dir, logger: silent })
  return {
    database,
    dataDir: dir,
    drop: async () => {
      await database.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

interface Teardown { teardown: (fn: () => unknown) => void }

export interface BuildOptions {
  /** Start from the seed dataset instead of an empty database. */
  seed?: boolean
  /**
   * `admin` (default): requests without an Authorization header are sent with an admin
   * token, so tests of other behaviour need not carry one. `none`: requests go as sent
   * (for access-control tests).
   */
  auth?: 'admin' | 'none'
  readsRequireToken?: boolean
  /** Rate limit instead of the default (e.g. `{ max: 0 }`, off, for the fuzzer's thousands of requests). */
  rateLimit?: RateLimitOptions
  /** Read replicas of the test database, given its connection string (PostgreSQL only). */
  replicas?: (url: string) => ReplicaOptions
  /** An open database to serve instead of a fresh one (closed with the app; `seed` and `replicas` do not apply). */
  database?: Database
  /** Bulk import settings (e.g. a short Idempotency-Key wait). */
  imports?: ImportsServiceOptions
  /** Cache lifetimes instead of the defaults. */
  caching?: AppOptions['caching']
}

/** The app as production builds it (same options, same validator), on a clean database. */
export async function build (t: Teardown, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { database, drop } = options.database !== undefined
    ? { database: options.database, drop: async () => { await options.database!.close() } }
    : await freshDatabase(options.seed === true ? 'seeded' : 'empty', options.replicas)
  const server = Fastify(buildOptions({ LOG_LEVEL: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent', BODY_LIMIT: 1_048_576 }))
  let adminToken: string | undefined
  if (options.auth !== 'none') {
    // Registered before the app, so it runs before the app's own onRequest (auth) hook.
    server.addHook('onRequest', async (request) => {
      if (adminToken !== undefined && request.headers.authorization === undefined) request.headers.authorization = `Bearer ${adminToken}`
    })
  }
  // Load shedding is tested on its own (test/hardening.test.ts): parallel test files on a
  // small machine lag the event loop enough to trip it at random.
  await server.register(app, { database, auth: { readsRequireToken: options.readsRequireToken ?? false }, loadShedding: { maxEventLoopDelayMs: 0 }, ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}), ...(options.imports !== undefined ? { imports: options.imports } : {}), ...(options.caching !== undefined ? { caching: options.caching } : {}) })
  await server.ready()
  if (options.auth !== 'none') adminToken = (await server.tokens.create({ actor: 'test' }, { name: 'test admin', role: 'admin' })).token
  t.teardown(async () => {
    await server.close()
    await drop()
  })
  return server
}

/** A token of `role` (scoped to `regionCode` for editors), made directly by the service. */
export async function tokenFor (server: FastifyInstance, role: 'reader' | 'editor' | 'admin', regionCode?: string): Promise<string> {
  return (await server.tokens.create({ actor: 'test' }, { name: `test ${role} ${regionCode ?? ''}`, role, regionCode: regionCode ?? null })).token
}

/** JSON body of a response (throws with the body text when it is not JSON). */
export function json<T = any> (res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T
}

/** Shorthand for a JSON request through app.inject. */
export function call (server: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
  return server.inject({
    method,
    url,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {})
  })
}

// Factories with readable defaults ---------------------------------------------------

export const zhejiangTree = [
  { code: '100000', name: '中华人民共和国', level: 'national' },
  { code: '330000', name: '浙江省', level: 'province', parentCode: '100000' },
  { code: '331000', name: '台州市', level: 'prefecture', parentCode: '330000' },
  { code: '331003', name: '黄岩区', level: 'county', parentCode: '331000' },
  { code: '331004', name: '路桥区', level: 'county', parentCode: '331000' },
  { code: '330600', name: '绍兴市', level: 'prefecture', parentCode: '330000' },
  { code: '330683', name: '嵊州市', level: 'county', parentCode: '330600' },
  { code: '330683001', name: '剡湖街道', level: 'township', parentCode: '330683' },
  { code: '420000', name: '湖北省', level: 'province', parentCode: '100000' },
  { code: '429004', name: '仙桃市', level: 'county', parentCode: '420000' }
]

export async function createRegions (server: FastifyInstance, regions = zhejiangTree) {
  for (const r of regions) {
    const res = await call(server, 'POST', '/v1/regions', r)
    if (res.statusCode !== 201) throw new Error(`region ${r.code}: ${res.statusCode} ${res.body}`)
  }
}

export function indicatorBody (overrides: Record<string, unknown> = {}) {
  return {
    code: 'hardship-subsidy-coverage',
    name: '困难残疾人生活补贴覆盖率',
    nameEn: 'Hardship living-subsidy coverage',
    domain: 'income',
    unit: 'percent',
    aggregation: 'ratio',
    direction: 'increase',
    min: 0,
    max: 100,
    ...overrides
  }
}

export async function createIndicator (server: FastifyInstance, overrides: Record<string, unknown> = {}) {
  const res = await call(server, 'POST', '/v1/indicators', indicatorBody(overrides))
  if (res.statusCode !== 201) throw new Error(`indicator: ${res.statusCode} ${res.body}`)
  return json(res)
}

export function planBody (overrides: Record<string, unknown> = {}) {
  return {
    id: 'huangyan-14th-fyp',
    title: '黄岩区残疾人事业发展“十四五”规划',
    kind: 'five-year-plan',
    regionCode: '331003',
    startYear: 2021,
    endYear: 2025,
    baselineYear: 2020,
    ...overrides
  }
}

export async function createPlan (server: FastifyInstance, overrides: Record<string, unknown> = {}) {
  const res = await call(server, 'POST', '/v1/plans', planBody(overrides))
  if (res.statusCode !== 201) throw new Error(`plan: ${res.statusCode} ${res.body}`)
  return json(res)
}

/** Every item of a paginated list, following nextCursor to the end. */
/**
 * Waits until the changes feed serves every change committed so far. The feed holds a
 * transaction back while an older one is still running anywhere on the server, and on the
 * PostgreSQL test server other test files' transactions are: a test that reads the feed
 * right after its own writes waits for them first (at most `timeoutMs`).
 */
export async function feedSettled (server: FastifyInstance, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [row] = await queryRows<{ settled: boolean }>(server.db, sql`select coalesce(pg_snapshot_xmin(pg_current_snapshot()) > max(txid), true) as settled from changes`)
    if (row?.settled === true) return
    if (Date.now() > deadline) throw new Error(`the changes feed did not serve every committed change within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function collect<T = any> (server: FastifyInstance, url: string): Promise<T[]> {
  const items: T[] = []
  let cursor: string | null = null
  do {
    const page: LightMyRequestResponse = await server.inject(`${url}${url.includes('?') ? '&' : '?'}limit=1000${cursor !== null ? `&cursor=${cursor}` : ''}`)
    if (page.statusCode !== 200) throw new Error(`${url}: ${page.statusCode} ${page.body}`)
    const body: { items: T[], nextCursor: string | null } = json(page)
    items.push(...body.items)
    cursor = body.nextCursor
  } while (cursor !== null)
  return items
}
