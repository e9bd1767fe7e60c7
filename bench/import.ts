// npm run bench:import — bulk import against PostgreSQL COPY, on the local server.
//
// Loads N yearly values (default 1,000,000) through POST /v1/values/import of the real
// service as deployed (`node bin/serve.js`, the bundle `npm start` runs; JSON requests of 5,000 rows), with one stream and with two
// concurrent streams, and COPYs the same rows into an empty copy of the table (same
// columns, indexes, constraints and foreign keys; no triggers). Each of the three runs once
// per round, from an empty table after a checkpoint, in alternating order (one stream, two
// streams, COPY; then the other way round): this disk's speed drifts by a fifth within
// minutes, and a single COPY measured after the imports took the drift for the ratio.
// Prints each rate (all rounds' rows over all rounds' time) and its ratio to COPY.
// Goal: one stream >= 1.0x COPY, two streams >= 1.5x COPY.
//
// Options: --values N (default 1000000), --batch N (rows per request, default 5000),
//          --rounds N (default 2),
//          --url postgres://... (server; default postgres://postgres@127.0.0.1:5432/postgres)
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import pino from 'pino'
import { openDatabase } from '../src/db/client.ts'
import { upsertRegions } from '../src/modules/regions/regions.bulk.ts'
import { SERVICE, startChild, stopChild } from './lib.ts'
import { nationalDivisions } from '../src/seed/divisions.ts'

const { values: args } = parseArgs({
  options: {
    values: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '2' },
    url: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' }
  }
})
const TOTAL = Number(args.values)
const BATCH = Number(args.batch)
const ROUNDS = Number(args.rounds)
const DB = 'bench_import'
const admin = new URL(args.url!)
const target = new URL(args.url!)
target.pathname = `/${DB}`

const log = (...m: unknown[]) => console.error('[bench:import]', ...m)

// --- database --------------------------------------------------------------------------
async function resetDatabase () {
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  await client.query(`drop database if exists ${DB} with (force)`)
  await client.query(`create database ${DB}`)
  await client.end()
  const database = await openDatabase({ databaseUrl: target.toString(), dataDir: '', logger: pino({ level: 'silent' }) })
  await database.migrate()
  await upsertRegions(database.db, nationalDivisions(), 'bench')
  await database.close()
}

async function sql (text: string) {
  const client = new pg.Client({ connectionString: target.toString() })
  await client.connect()
  try {
    return await client.query(text)
  } finally {
    await client.end()
  }
}

// --- data: deterministic rows (counties x indicators x years) ---------------------------
interface Row { regionCode: string, indicatorCode: string, year: number, value: string }
function makeRows (counties: string[], indicatorCount: number): Row[] {
  const rows: Row[] = []
  const years = Math.ceil(TOTAL / (counties.length * indicatorCount))
  let seed = 42
  const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed }
  for (let y = 0; y < years; y++) {
    for (let i = 0; i < indicatorCount; i++) {
      for (const c of counties) {
        rows.push({ regionCode: c, indicatorCode: `bench-indicator-${i}`, year: 2010 + y, value: `${next() % 100000}.${next() % 100}` })
        if (rows.length === TOTAL) return rows
      }
    }
  }
  return rows
}

// --- the service, as its own process -----------------------------------------------------
// Writes need a token: the service registers this one as an admin at start. Rate limiting
// stays on with a limit the benchmark cannot reach.
const TOKEN = `irt_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url').slice(0, 43)}`
async function importStreams (port: number, bodies: string[], streams: number): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: streams }, async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/values/import`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: bodies[i] })
      const summary = await res.json() as { created?: number, rejected?: number }
      if (res.status !== 200 || summary.rejected !== 0) throw new Error(`import failed: ${res.status} ${JSON.stringify(summary).slice(0, 300)}`)
    }
  }))
  return performance.now() - started
}

async function truncateValues () {
  await sql('truncate yearly_values, changes, value_history, idempotency_keys restart identity')
  await sql('vacuum analyze yearly_values')
  // Each measured phase starts from a finished checkpoint, so none of them pays for
  // flushing the WAL that the phase before it wrote.
  await sql('checkpoint')
}

async function copyBaseline (rows: Row[]): Promise<number> {
  await sql('drop table if exists yearly_values_copy')
  await sql(`create table yearly_values_copy (like yearly_values including all);
    alter table yearly_values_copy add foreign key (region_code) references regions(code),
      add foreign key (indicator_code) references indicators(code),
      add foreign key (plan_id) references plans(id) on delete cascade`)
  const client = new pg.Client({ connectionString: target.toString() })
  await client.connect()
  const started = performance.now()
  const stream = client.query(copyFrom('copy yearly_values_copy (kind, region_code, indicator_code, from_year, year, value, status) from stdin (format csv)'))
  await pipeline(Readable.from((function * () {
    for (let i = 0; i < rows.length; i += 10000) {
      yield rows.slice(i, i + 10000).map((r) => `actual,${r.regionCode},${r.indicatorCode},${r.year},${r.year},${r.value},final\n`).join('')
    }
  })()), stream)
  const elapsed = performance.now() - started
  await client.end()
  await sql('drop table yearly_values_copy')
  return elapsed
}

// --- run ----------------------------------------------------------------------------------
log(`preparing ${DB} (${TOTAL.toLocaleString('en')} values, ${BATCH} per request)`)
await resetDatabase()
const counties = (await sql("select code from regions where level = 'county' order by code")).rows.map((r: { code: string }) => r.code)
const indicatorCount = 60
await sql(`insert into indicators (code, name, domain, unit, aggregation, direction, min)
  select 'bench-indicator-' || i, '基准指标' || i, 'employment', 'persons', 'sum', 'increase', 0 from generate_series(0, ${indicatorCount - 1}) i`)
const rows = makeRows(counties, indicatorCount)
const bodies: string[] = []
for (let i = 0; i < rows.length; i += BATCH) {
  bodies.push(JSON.stringify({ values: rows.slice(i, i + BATCH).map((r) => ({ kind: 'actual', ...r, status: 'final' })) }))
}

const server = await startChild(SERVICE, { DATABASE_URL: target.toString(), LOG_LEVEL: 'info', DB_POOL_MAX: '10', BOOTSTRAP_ADMIN_TOKEN: TOKEN, RATE_LIMIT_MAX: '1000000000' }, 'import-service')
const port = server.port
const results: Record<string, { ms: number, rowsPerSecond: number, rounds: number[] }> = {}
const record = (name: string, ms: number) => {
  const entry = results[name] ??= { ms: 0, rowsPerSecond: 0, rounds: [] }
  entry.ms += Math.round(ms)
  entry.rounds.push(Math.round(rows.length / (ms / 1000)))
  entry.rowsPerSecond = Math.round(rows.length * entry.rounds.length / (entry.ms / 1000))
  log(`${name}: ${entry.rounds.at(-1)!.toLocaleString('en')} rows/s (${(ms / 1000).toFixed(1)} s)`)
}
const phases: Array<[string, () => Promise<number>]> = [
  ['import, 1 stream', () => importStreams(port, bodies, 1)],
  ['import, 2 streams', () => importStreams(port, bodies, 2)],
  ['COPY', () => copyBaseline(rows)]
]
try {
  // Warm-up (JIT, prepared plans) on a small slice, then the measured runs on an empty table.
  await importStreams(port, bodies.slice(0, 2), 1)
  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1} of ${ROUNDS}`)
    for (const [name, run] of round % 2 === 0 ? phases : [...phases].reverse()) {
      await truncateValues()
      record(name, await run())
    }
  }
} finally {
  await stopChild(server)
}

const copy = results.COPY!.rowsPerSecond
const table = [
  ['measure', 'rows/s', 'ratio to COPY', 'goal'],
  ['COPY into an empty copy of the table (baseline)', copy, '1.00', ''],
  ['import, 1 stream', results['import, 1 stream']!.rowsPerSecond, (results['import, 1 stream']!.rowsPerSecond / copy).toFixed(2), '>= 1.00'],
  ['import, 2 streams', results['import, 2 streams']!.rowsPerSecond, (results['import, 2 streams']!.rowsPerSecond / copy).toFixed(2), '>= 1.50']
]
console.log(table.map((r) => r.map(String).map((c, i) => (i === 0 ? c.padEnd(48) : c.padStart(14))).join('')).join('\n'))
await mkdir(new URL('./results/', import.meta.url), { recursive: true })
await writeFile(new URL('./results/import.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), values: rows.length, batch: BATCH, rounds: ROUNDS, results }, null, 2))
