/**
 * Fault-test harness: the real service as a child process, import
 * writers that retry with their Idempotency-Key, PostgreSQL control (restart, terminate,
 * pause) and the checks run on the database afterwards.
 *
 * Times are `performance.now()` milliseconds of this process.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import type { Test } from 'tap'

const run = promisify(execFile)
export const root = fileURLToPath(new URL('../..', import.meta.url))
export const now = () => performance.now()
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// PostgreSQL ---------------------------------------------------------------------------

export const PG_ADMIN_URL = process.env.FAULTS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** The local cluster (Debian's postgresql-common layout), or why it cannot be controlled. */
export function localCluster (): { version: string, dataDir: string } | string {
  if (process.getuid?.() !== 0) return 'fault tests control the PostgreSQL cluster and need root'
  if (!existsSync('/etc/postgresql')) return 'no local PostgreSQL cluster (/etc/postgresql)'
  const versions = readdirSync('/etc/postgresql').filter((v) => existsSync(`/etc/postgresql/${v}/main`))
  if (versions.length !== 1) return `expected one cluster "main" in /etc/postgresql, found ${versions.join(', ') || 'none'}`
  return { version: versions[0]!, dataDir: `/var/lib/postgresql/${versions[0]!}/main` }
}

function cluster () {
  const c = localCluster()
  if (typeof c === 'string') throw new Error(c)
  return c
}

export async function pgCtl (action: 'restart' | 'start' | 'stop', mode?: 'immediate' | 'fast') {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', cluster().version, 'main', action, ...(mode !== undefined ? ['-m', mode] : [])], { timeout: 60_000 })
}

function withDatabase (url: string, name: string) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

export async function pgQuery<T = Record<string, unknown>> (url: string, text: string, values: unknown[] = [], timeoutMs = 2000): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query(text, values)).rows as T[]
  } finally {
    await client.end().catch(() => {})
  }
}

/** True when PostgreSQL accepts a new connection and answers. */
export async function pgAccepts (timeoutMs = 500, url = PG_ADMIN_URL): Promise<boolean> {
  try {
    await pgQuery(url, 'select 1', [], timeoutMs)
    return true
  } catch {
    return false
  }
}

/** The postmaster and its children (the whole server), for SIGSTOP/SIGCONT. */
async function serverPids (): Promise<number[]> {
  const postmaster = Number(readFileSync(path.join(cluster().dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
  return [postmaster, ...stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)]
}

let paused: number[] = []
function resume () {
  for (const pid of paused) {
    try { process.kill(pid, 'SIGCONT') } catch {}
  }
  paused = []
}
// Whatever happens to this process, a paused server is let go.
process.on('exit', resume)

/** Freezes every PostgreSQL process for `ms` (SIGSTOP, then SIGCONT). */
export async function pausePostgres (ms: number): Promise<{ stoppedAt: number, resumedAt: number }> {
  const pids = await serverPids()
  // A runner's timeout ends this process with a signal, which skips 'exit': resume first.
  const onSignal = (signal: NodeJS.Signals) => { resume(); process.kill(process.pid, signal) }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  try {
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP')
      paused.push(pid)
    }
    const stoppedAt = now()
    await sleep(ms)
    resume()
    return { stoppedAt, resumedAt: now() }
  } finally {
    resume()
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}

/** Ends every connection to `database` but ours (as an operator's kill would). */
export async function terminateBackends (database: string): Promise<number> {
  const rows = await pgQuery<{ n: number }>(PG_ADMIN_URL, 'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database], 10_000)
  return rows[0]?.n ?? 0
}

/** Leaves PostgreSQL running whatever a test did to it. */
export async function ensurePostgresRunning () {
  resume()
  if (await pgAccepts(3000)) return
  await pgCtl('start').catch(() => {})
  const deadline = now() + 60_000
  while (!await pgAccepts(1000)) {
    if (now() > deadline) throw new Error('PostgreSQL did not come back')
    await sleep(200)
  }
}

/** A new empty database on the server of `adminUrl`: its connection string. */
export async function createDatabase (name: string, adminUrl = PG_ADMIN_URL): Promise<string> {
  await pgQuery(adminUrl, `drop database if exists ${name} with (force)`, [], 30_000)
  await pgQuery(adminUrl, `create database ${name}`, [], 30_000)
  return withDatabase(adminUrl, name)
}

export async function dropDatabase (name: string, adminUrl = PG_ADMIN_URL) {
  await pgQuery(adminUrl, `drop database if exists ${name} with (force)`, [], 30_000)
}

/**
 * Watches when PostgreSQL stops and starts accepting connections (a fresh connection
 * every 50 ms): `up` is the first success after the first failure.
 */
export function watchAvailability () {
  const state = { stopped: false }
  let down: number | undefined
  let up: number | undefined
  const loop = (async () => {
    while (!state.stopped) {
      const started = now()
      const ok = await pgAccepts(400)
      if (!ok && down === undefined) down = started
      if (ok && down !== undefined && up === undefined) up = now()
      await sleep(50)
    }
  })()
  return {
    get down () { return down },
    get up () { return up },
    async stop () { state.stopped = true; await loop }
  }
}

// The service ----------------------------------------------------------------------------

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** A token string the service accepts as BOOTSTRAP_ADMIN_TOKEN. */
export function newAdminToken (): string {
  return `irt_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`
}

export interface Exit { code: number | null, signal: NodeJS.Signals | null, at: number }

export interface Service {
  proc: ChildProcess
  port: number
  url: string
  /** Set once the process has exited. */
  exit?: Exit
  exited: Promise<Exit>
  /** The last lines it printed (for failure messages). */
  output: () => string
}

/**
 * Starts the service as `npm start` runs it (`node bin/serve.js`: the bundle, rebuilt when
 * the sources changed; one process, so signals reach the server itself) and waits until
 * it answers /health/live.
 */
export async function startService (env: Record<string, string>, port: number): Promise<Service> {
  const proc = spawn(process.execPath, ['bin/serve.js'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
    if (lines.length > 200) lines.splice(0, lines.length - 200)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const service: Service = {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    exited: new Promise((resolve) => proc.once('exit', (code, signal) => {
      service.exit = { code, signal, at: now() }
      resolve(service.exit)
    })),
    output: () => lines.join('\n')
  }
  const deadline = now() + 90_000
  for (;;) {
    if (service.exit !== undefined) throw new Error(`the service exited while starting (${JSON.stringify(service.exit)}):\n${service.output()}`)
    const res = await request(service.url, 'GET', '/health/live', undefined, {}, 1000).catch(() => undefined)
    if (res?.status === 200) return service
    if (now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`the service did not start in 90 s:\n${service.output()}`)
    }
    await sleep(100)
  }
}

/** SIGTERM (then SIGKILL after `graceMs`) and the exit. */
export async function stopService (service: Service, graceMs = 15_000): Promise<Exit> {
  if (service.exit !== undefined) return service.exit
  service.proc.kill('SIGTERM')
  const timer = setTimeout(() => service.proc.kill('SIGKILL'), graceMs)
  try {
    return await service.exited
  } finally {
    clearTimeout(timer)
  }
}

// HTTP -----------------------------------------------------------------------------------

export interface Answer { status: number, headers: http.IncomingHttpHeaders, body: string }

/**
 * One request on a connection of its own (no keep-alive): a refused connection, a reset
 * and a timeout are told apart by the error's code. `localAddress` sends it from another
 * loopback address (127.0.0.2: a client the rate limit does not allow-list).
 */
export function request (base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000, localAddress?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined
    const req = http.request(new URL(url, base), {
      method,
      agent: false,
      ...(localAddress !== undefined ? { localAddress } : {}),
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...headers }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'TIMEOUT' })))
    req.on('error', reject)
    req.end(payload)
  })
}

export async function api (base: string, token: string, method: string, url: string, body?: unknown): Promise<Answer> {
  const res = await request(base, method, url, body, { authorization: `Bearer ${token}` })
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`)
  return res
}

// Data -------------------------------------------------------------------------------------

export const COUNTIES = Array.from({ length: 10 }, (_, i) => `3310${String(i + 1).padStart(2, '0')}`)
const CATEGORIES = [undefined, 'visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple']
const SEXES = [undefined, 'male', 'female']
const AREAS = [undefined, 'urban', 'rural']
const YEARS = 2100 - 1949 + 1
const KEYS_PER_WRITER = COUNTIES.length * YEARS * CATEGORIES.length * SEXES.length * AREAS.length

/** Regions and one indicator per writer, through the API. */
export async function createFixtures (base: string, token: string, writers: number) {
  await api(base, token, 'PUT', '/v1/regions/100000', { name: '中华人民共和国', level: 'national' })
  await api(base, token, 'PUT', '/v1/regions/330000', { name: '浙江省', level: 'province', parentCode: '100000' })
  await api(base, token, 'PUT', '/v1/regions/331000', { name: '台州市', level: 'prefecture', parentCode: '330000' })
  for (const code of COUNTIES) await api(base, token, 'PUT', `/v1/regions/${code}`, { name: `故障测试区${code}`, level: 'county', parentCode: '331000' })
  for (let w = 0; w < writers; w++) {
    await api(base, token, 'PUT', `/v1/indicators/fault-w${w}`, { name: `故障测试指标${w}`, domain: 'governance', unit: 'items', aggregation: 'sum', direction: 'increase' })
  }
}

/** Row `g` of writer `w`: a natural key no other row of the run has. */
function row (w: number, g: number, source: string) {
  if (g >= KEYS_PER_WRITER) throw new Error('key space exhausted')
  let h = g
  const region = COUNTIES[h % COUNTIES.length]!
  h = Math.floor(h / COUNTIES.length)
  const year = 1949 + (h % YEARS)
  h = Math.floor(h / YEARS)
  const category = CATEGORIES[h % CATEGORIES.length]
  h = Math.floor(h / CATEGORIES.length)
  const sex = SEXES[h % SEXES.length]
  const area = AREAS[Math.floor(h / SEXES.length)]
  const breakdown = { ...(category !== undefined ? { category } : {}), ...(sex !== undefined ? { sex } : {}), ...(area !== undefined ? { area } : {}) }
  return {
    kind: 'actual',
    regionCode: region,
    indicatorCode: `fault-w${w}`,
    year,
    ...(Object.keys(breakdown).length > 0 ? { breakdown } : {}),
    value: String(g),
    status: 'final',
    source
  }
}

// Writers ----------------------------------------------------------------------------------

export interface Batch {
  id: string
  size: number
  acked: boolean
  ackedAt?: number
  /** The summary answered for it (replayed or not). */
  summary?: { created: number, updated: number, unchanged: number, rejected: number }
  replayed?: boolean
  attempts: number
}

export interface Failure { at: number, batch: string, status: number, contentType: string, code?: string, body: string, sentAt: number }
export interface NetworkError { at: number, batch: string, code: string, sentAt: number }

export interface WriterOptions {
  base: () => string
  token: string
  writers: number
  batchSize: number
  /** Pause between one writer's batches. */
  pauseMs: number
  /** Wait between retries of one batch (Retry-After is not honoured: recovery is measured). */
  retryMs: number
  runId: string
}

/**
 * Writers pushing `POST /v1/values/import` batches with an Idempotency-Key each; a batch is
 * retried with the same key and body after a 503 or a network error until it is answered.
 */
export function startWriters (options: WriterOptions) {
  const batches: Batch[] = []
  const failures: Failure[] = []
  const networkErrors: NetworkError[] = []
  const successes: number[] = []
  let inFlight = 0
  const state = { stopping: false, giveUpAt: Infinity }

  const submit = async (batch: Batch, body: unknown) => {
    for (;;) {
      batch.attempts++
      const sentAt = now()
      inFlight++
      try {
        const res = await request(options.base(), 'POST', '/v1/values/import', body, { authorization: `Bearer ${options.token}`, 'idempotency-key': batch.id }, 20_000)
        if (res.status === 200) {
          const summary = JSON.parse(res.body)
          batch.acked = true
          batch.ackedAt = now()
          batch.summary = { created: summary.created, updated: summary.updated, unchanged: summary.unchanged, rejected: summary.rejected }
          batch.replayed = res.headers['idempotent-replayed'] === 'true'
          successes.push(batch.ackedAt)
          return
        }
        let code: string | undefined
        try { code = JSON.parse(res.body).code } catch {}
        failures.push({ at: now(), batch: batch.id, status: res.status, contentType: String(res.headers['content-type'] ?? ''), code, body: res.body.slice(0, 300), sentAt })
        // Anything but 503 is a defect the checks report; a 5xx is retried all the same (its
        // outcome is unknown), a 4xx is final.
        if (res.status < 500) return
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        networkErrors.push({ at: now(), batch: batch.id, code: e.code ?? e.message, sentAt })
      } finally {
        inFlight--
      }
      if (now() > state.giveUpAt) return
      await sleep(options.retryMs)
    }
  }

  const loops = Array.from({ length: options.writers }, async (_, w) => {
    let g = 0
    for (let j = 0; !state.stopping; j++) {
      const id = `fault:${options.runId}:w${w}:b${j}`
      const rows = Array.from({ length: options.batchSize }, () => row(w, g++, id))
      const batch: Batch = { id, size: rows.length, acked: false, attempts: 0 }
      batches.push(batch)
      await submit(batch, { values: rows })
      if (options.pauseMs > 0) await sleep(options.pauseMs)
    }
  })

  return {
    batches,
    failures,
    networkErrors,
    successes,
    get inFlight () { return inFlight },
    acked: () => batches.filter((b) => b.acked).length,
    /** The first answered write at or after `t`. */
    firstSuccessAfter: (t: number) => successes.find((s) => s >= t),
    /** Stops starting batches; the open ones keep retrying for up to `drainMs`. */
    async stop (drainMs = 30_000) {
      state.stopping = true
      state.giveUpAt = now() + drainMs
      await Promise.all(loops)
    }
  }
}
export type Writers = ReturnType<typeof startWriters>

/** Polls /health/ready every 100 ms (3 s timeout) and keeps every answer. */
export function watchReadiness (base: () => string) {
  const answers: Array<{ at: number, status: number }> = []
  const state = { stopped: false }
  const loop = (async () => {
    while (!state.stopped) {
      const res = await request(base(), 'GET', '/health/ready', undefined, {}, 3000).catch(() => undefined)
      answers.push({ at: now(), status: res?.status ?? 0 })
      await sleep(100)
    }
  })()
  return {
    answers,
    async stop () { state.stopped = true; await loop }
  }
}

// Checks -------------------------------------------------------------------------------------

export interface Verdict {
  batches: number
  acked: number
  rows: number
  /** Acknowledged batches with fewer rows than sent. */
  lost: string[]
  /** Batches with some but not all of their rows. */
  partial: string[]
  /** Batches with more rows than sent, or rows no batch sent. */
  duplicated: string[]
  /** Natural keys held by more than one row. */
  duplicateKeys: number
  /** Acknowledged batches whose summary is not "all created" (a second execution). */
  doubleExecuted: string[]
  unacked: Array<{ id: string, present: number }>
}

export const COUNT_SQL = 'select source, count(*)::int as n from yearly_values where source like \'fault:%\' group by source'
export const DUPLICATE_KEYS_SQL = 'select count(*)::int as n from (select 1 from yearly_values group by kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area having count(*) > 1) d'

/** Compares what the writers were told with what the database holds. */
export function verdict (batches: Batch[], counts: Array<{ source: string, n: number }>, duplicateKeys: number): Verdict {
  const present = new Map(counts.map((c) => [c.source, Number(c.n)]))
  const known = new Set(batches.map((b) => b.id))
  const v: Verdict = { batches: batches.length, acked: 0, rows: 0, lost: [], partial: [], duplicated: [], duplicateKeys, doubleExecuted: [], unacked: [] }
  for (const c of counts) {
    v.rows += Number(c.n)
    if (!known.has(c.source)) v.duplicated.push(c.source)
  }
  for (const b of batches) {
    const n = present.get(b.id) ?? 0
    if (b.acked) {
      v.acked++
      if (n < b.size) v.lost.push(`${b.id} (${n}/${b.size})`)
      if (b.summary !== undefined && b.summary.created !== b.size) v.doubleExecuted.push(`${b.id} ${JSON.stringify(b.summary)}`)
    } else {
      v.unacked.push({ id: b.id, present: n })
    }
    if (n > 0 && n < b.size) v.partial.push(`${b.id} (${n}/${b.size})`)
    if (n > b.size) v.duplicated.push(`${b.id} (${n}/${b.size})`)
  }
  return v
}

/** Runs a query on the database the writers wrote to (PostgreSQL, or the reopened PGlite folder). */
export type RowQuery = (text: string) => Promise<Array<Record<string, unknown>>>

/**
 * The data checks every fault test ends with: every batch acknowledged in the end, no
 * acknowledged row lost, no partial or duplicated batch, no natural key twice, no batch
 * executed twice. Returns the verdict for test-specific checks.
 */
export async function assertNothingLost (t: Test, writers: Writers, query: RowQuery): Promise<Verdict> {
  const counts = await query(COUNT_SQL) as Array<{ source: string, n: number }>
  const [dup] = await query(DUPLICATE_KEYS_SQL) as Array<{ n: number }>
  const v = verdict(writers.batches, counts, dup!.n)
  t.comment(`batches ${v.batches}, acknowledged ${v.acked}, rows ${v.rows}, unacknowledged ${JSON.stringify(v.unacked)}, replayed answers ${writers.batches.filter((b) => b.replayed).length}, retried batches ${writers.batches.filter((b) => b.attempts > 1).length}`)
  t.equal(v.unacked.length, 0, 'every batch was acknowledged in the end')
  t.same(v.lost, [], 'no acknowledged row lost')
  t.same(v.partial, [], 'no partial batch')
  t.same(v.duplicated, [], 'no duplicated rows')
  t.equal(v.duplicateKeys, 0, 'no natural key twice')
  t.same(v.doubleExecuted, [], 'no batch executed twice (retries replayed)')
  return v
}

/** Failures that are not a 503 problem+json. */
export function badFailures (failures: Failure[]): Failure[] {
  return failures.filter((f) => f.status !== 503 || !f.contentType.startsWith('application/problem+json') || f.code === undefined)
}

export function tally<T> (items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1
  return out
}
