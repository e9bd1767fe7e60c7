// Read path against its limit, and the service's memory.
//
//   node --import tsx bench/read-path.ts [--values 5000000] [--seconds 10] [--rounds 3] [--connections 32]
//
// With the synthetic national dataset loaded (bench/generate.ts; 5 million values by
// default), starts in the same run and on the same database:
// - the real service as deployed (`node bin/serve.js`, the bundle `npm start` runs, as a child process: validation, response schemas,
//   request logging at `info` into bench/results/read-service.log, auth, security headers,
//   rate limit and load shedding, all on), and
// - the limit: a bare Fastify route with a prepared `pg` statement running the same SQL,
//   logging each request the same way
//   (bench/bare.ts).
// A separate load process (bench/load.ts: autocannon, 32 connections, 10 s) drives both,
// in alternating rounds, for a series read (`GET /v1/values?region=&indicator=`, about 15
// rows; 1,000 different series in turn) and a point read (`GET /v1/values/{id}`, 1,000
// different ids). Goal: the service reaches >= 0.9x the bare route's requests per second
// with a p99 <= 1.3x.
//
// Through the caching layer (src/plugins/caching.ts), on the same series: the conditional
// request of a client or shared cache whose copy is current (If-None-Match with each
// series' ETag, answered 304 after the data-version query alone), against the full answer
// of the same series and against the bare route; and full answers from a second service
// instance with the in-process answer cache on (CACHE_MEMORY_MB), against the bare route.
// Goal for both: >= 2x the bare route's rate, p99 no worse than the bare route's.
//
// Memory: the service's RSS is sampled from /proc during the load (goal <= 250 MB), then
// while it exports about 1 million values as CSV and then as an Excel workbook (goal for
// each: RSS grows < 50 MB; bench/exports.ts). Their times are compared with PostgreSQL's
// own `COPY (same query) TO STDOUT`. `--export-only` measures the exports alone (no load).
import http from 'node:http'
import { parseArgs } from 'node:util'
import { copyBaseline, expectedRows, measureExport } from './exports.ts'
import { generate } from './generate.ts'
import { DEFAULT_SERVER, get, log, median, memoryOf, query, runLoad, sampleRss, SERVICE, startChild, stopChild, writeResult, type Child } from './lib.ts'
import type { LoadResult } from './load.ts'

const { values: args } = parseArgs({
  options: {
    values: { type: 'string', default: '5000000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    server: { type: 'string', default: DEFAULT_SERVER },
    'skip-export': { type: 'boolean', default: false },
    'export-only': { type: 'boolean', default: false }
  }
})
const SIZE = Number(args.values)
const SECONDS = Number(args.seconds)
const ROUNDS = Number(args.rounds)
const CONNECTIONS = Number(args.connections)
const POOL = 10
const database = `bench_${SIZE >= 1_000_000 ? `${SIZE / 1_000_000}m` : `${SIZE / 1000}k`}`

const { url, values } = await generate({ server: args.server, database, values: SIZE })
log(`read path on ${database} (${values} actuals)`)

// Rate limiting stays on with a limit the load cannot reach, so its hook is measured too
// (loopback is meant to be on its allow list).
const serviceEnv = { DATABASE_URL: url, LOG_LEVEL: 'info', DB_POOL_MAX: String(POOL), RATE_LIMIT_MAX: '1000000000' }

if (args['export-only']) {
  const service = await startChild(SERVICE, serviceEnv, 'read-service')
  try {
    await writeResult('read-path-export', { database, values, ...await exportBoth(service, url) })
  } finally {
    await stopChild(service)
  }
  process.exit(0)
}

// Deterministic request mix: 1,000 (county, indicator) series and 1,000 value ids.
let seed = 7
const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed }
const counties = (await query<{ code: string }>(url, 'select code from regions where level = \'county\' order by code')).map((r) => r.code)
const indicators = (await query<{ code: string }>(url, 'select distinct indicator_code as code from yearly_values where kind = \'actual\' and region_code = $1 order by 1', [counties[0]])).map((r) => r.code)
const [{ max: maxId }] = await query<{ max: number }>(url, 'select max(id)::int as max from yearly_values') as [{ max: number }]
const seriesPaths = Array.from({ length: 1000 }, () => `/v1/values?region=${counties[next() % counties.length]}&indicator=${indicators[next() % indicators.length]}`)
const pointPaths = Array.from({ length: 1000 }, () => `/v1/values/${1 + (next() % maxId)}`)

const scenarios = [
  { name: 'series', label: 'series read GET /v1/values?region=&indicator=', paths: seriesPaths },
  { name: 'point', label: 'point read GET /v1/values/{id}', paths: pointPaths }
] as const

type Target = 'service' | 'bare' | 'memory'
interface Run { key: string, target: Target, paths: string[], headers?: Array<Record<string, string>>, status: number }

let service: Child | undefined
let bare: Child | undefined
let memoryService: Child | undefined
try {
  // The in-process cache is off here: these rounds measure the service's own read path.
  service = await startChild(SERVICE, { ...serviceEnv, CACHE_MEMORY_MB: '0' }, 'read-service')
  bare = await startChild('bench/bare.ts', { DATABASE_URL: url, DB_POOL_MAX: String(POOL) }, 'read-bare')
  memoryService = await startChild(SERVICE, { ...serviceEnv, CACHE_MEMORY_MB: '64' }, 'read-service-memory')
  const targets: Record<Target, Child> = { service, bare, memory: memoryService }

  // Both answer the same rows.
  for (const s of scenarios) {
    const first = s.paths[0]!
    const [a, b] = await Promise.all([get(service.port, first), get(bare.port, first)])
    if (a.status !== 200 || b.status !== 200) throw new Error(`${s.paths[0]}: service ${a.status}, bare ${b.status}: ${a.body.slice(0, 200)}`)
    const ids = (body: string) => {
      const j = JSON.parse(body) as { items?: Array<{ id: number | string }>, id?: number | string }
      return (j.items ?? [j]).map((r) => Number(r.id)).join(',')
    }
    if (ids(a.body) !== ids(b.body)) throw new Error(`${s.paths[0]}: the service and the bare route disagree`)
    log(`${s.name}: ${s.paths[0]} -> ${ids(a.body).split(',').length} rows on both`)
  }

  // Each series' ETag, as a client or shared cache holding the current copy would send it.
  // Both service instances run the same build on the same data, so they give the same tags.
  // A service without the caching layer (an older checkout through BENCH_SERVICE_ROOT)
  // sends none: then only its own read path is measured.
  const conditional: Array<Record<string, string>> = []
  const cachingLayer = await getEtag(service.port, seriesPaths[0]!) !== undefined
  if (cachingLayer) {
    for (const path of seriesPaths) {
      const [a, b] = await Promise.all([getEtag(service.port, path), getEtag(memoryService.port, path)])
      if (a === undefined || a !== b) throw new Error(`${path}: ETag ${a} from one instance, ${b} from the other`)
      conditional.push({ 'if-none-match': a })
    }
  } else {
    log('the service sends no ETag: the cached-read rounds are skipped')
  }

  const plan: Run[] = [
    ...scenarios.flatMap((s) => (['bare', 'service'] as const).map((target) => ({ key: `${s.name}|${target}`, target, paths: s.paths, status: 200 }))),
    ...(cachingLayer
      ? [
        { key: 'series-304|service', target: 'service', paths: seriesPaths, headers: conditional, status: 304 },
        { key: 'series|memory', target: 'memory', paths: seriesPaths, status: 200 }
      ] satisfies Run[]
      : [])
  ]
  const load = (r: Run, seconds: number) => runLoad({ origin: `http://127.0.0.1:${targets[r.target].port}`, paths: r.paths, headers: r.headers, connections: CONNECTIONS, seconds })
  for (const r of plan) await load(r, 3)

  const runs: Record<string, LoadResult[]> = {}
  const rssOf: Record<Target, number[]> = { service: [], bare: [], memory: [] }
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 === 0 ? plan : [...plan].reverse()) {
      const t = targets[r.target]
      const sampler = sampleRss(t.pid, 100)
      const result = await load(r, SECONDS)
      const rss = sampler.stop()
      rssOf[r.target].push(rss.max)
      const unexpected = result.requests - (result.statuses[String(r.status)] ?? 0)
      if (unexpected > 0 || result.errors > 0) throw new Error(`${r.key}: ${unexpected} answers other than ${r.status} (${JSON.stringify(result.statuses)}), ${result.errors} errors`)
      ;(runs[r.key] ??= []).push(result)
      log(`round ${round + 1} ${r.key}: ${Math.round(result.rps)} req/s, p99 ${result.latency.p99} ms, RSS max ${rss.max.toFixed(0)} MB`)
    }
  }
  const serviceRss = rssOf.service
  const bareRss = rssOf.bare

  const summary = (list: LoadResult[]) => ({
    rps: list.reduce((n, r) => n + r.requests, 0) / (list.length * SECONDS),
    p50: median(list.map((r) => r.latency.p50)),
    p99: median(list.map((r) => r.latency.p99)),
    rounds: list.map((r) => ({ rps: Math.round(r.rps), p50: r.latency.p50, p99: r.latency.p99 }))
  })
  const reads = scenarios.map((s) => {
    const svc = summary(runs[`${s.name}|service`]!)
    const lim = summary(runs[`${s.name}|bare`]!)
    return { scenario: s.name, label: s.label, service: svc, bare: lim, ratioRps: svc.rps / lim.rps, ratioP99: svc.p99 / lim.p99 }
  })

  const full = summary(runs['series|service']!)
  const limit = summary(runs['series|bare']!)
  const versus = (x: ReturnType<typeof summary>) => ({ ...x, ratioRpsToBare: x.rps / limit.rps, ratioP99ToBare: x.p99 / limit.p99, ratioRpsToFull: x.rps / full.rps })
  const cached = cachingLayer
    ? {
        conditional: versus(summary(runs['series-304|service']!)),
        memory: { ...versus(summary(runs['series|memory']!)), rssUnderLoadMaxMB: Math.max(...rssOf.memory) }
      }
    : undefined

  const memory = {
    serviceUnderLoadMaxMB: Math.max(...serviceRss),
    bareUnderLoadMaxMB: Math.max(...bareRss),
    serviceAfterLoad: memoryOf(service.pid)
  }

  const exported = args['skip-export'] ? undefined : await exportBoth(service, url)

  await writeResult('read-path', {
    database,
    values,
    connections: CONNECTIONS,
    seconds: SECONDS,
    rounds: ROUNDS,
    pool: POOL,
    reads,
    cached,
    memory,
    export: exported?.csv,
    exportXlsx: exported?.xlsx
  })
  for (const r of reads) {
    log(`${r.scenario}: service ${Math.round(r.service.rps)} req/s p99 ${r.service.p99} ms; bare ${Math.round(r.bare.rps)} req/s p99 ${r.bare.p99} ms; ratio ${r.ratioRps.toFixed(2)} / p99 ${r.ratioP99.toFixed(2)}`)
  }
  if (cached !== undefined) {
    log(`series, unchanged, If-None-Match (304): ${Math.round(cached.conditional.rps)} req/s p99 ${cached.conditional.p99} ms; ${cached.conditional.ratioRpsToBare.toFixed(2)}x the bare route, ${cached.conditional.ratioRpsToFull.toFixed(2)}x the full answer; p99 ${cached.conditional.ratioP99ToBare.toFixed(2)}x the bare route's`)
    log(`series from the in-process cache: ${Math.round(cached.memory.rps)} req/s p99 ${cached.memory.p99} ms; ${cached.memory.ratioRpsToBare.toFixed(2)}x the bare route, ${cached.memory.ratioRpsToFull.toFixed(2)}x the uncached service; p99 ${cached.memory.ratioP99ToBare.toFixed(2)}x the bare route's`)
  }
  log(`memory: service under load max ${memory.serviceUnderLoadMaxMB.toFixed(0)} MB, bare ${memory.bareUnderLoadMaxMB.toFixed(0)} MB`)
} finally {
  if (service !== undefined) await stopChild(service)
  if (bare !== undefined) await stopChild(bare)
  if (memoryService !== undefined) await stopChild(memoryService)
}

/** The ETag of one GET. */
async function getEtag (port: number, path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200 ? res.headers.etag : undefined))
    }).on('error', reject)
  })
}

/** The CSV export, then the workbook export, of the same values, each with COPY's time beside it. */
async function exportBoth (svc: Child, url: string) {
  const expected = await expectedRows(url)
  const copy = await copyBaseline(url)
  const csv = { ...await measureExport(svc.port, svc.pid, 'csv', expected), ...copy }
  // A service that does not write workbooks (an older checkout through BENCH_SERVICE_ROOT)
  // does not name the format in its API description.
  const workbooks = (await get(svc.port, '/openapi.json')).body.includes('spreadsheetml')
  const xlsx = workbooks ? { ...await measureExport(svc.port, svc.pid, 'xlsx', expected), ...copy } : undefined
  if (!workbooks) log('the service does not export workbooks: the xlsx export is skipped')
  for (const [format, e] of Object.entries({ csv, xlsx })) {
    if (e === undefined) continue
    log(`${format} export: ${e.rows} rows, ${(e.bytes / 1e6).toFixed(1)} MB in ${(e.ms / 1000).toFixed(1)} s, RSS ${e.rssBeforeMB.toFixed(0)} -> max ${e.rssMaxMB.toFixed(0)} MB (+${e.rssGrowthMB.toFixed(0)}); COPY ${(e.copyMs / 1000).toFixed(1)} s`)
  }
  return { csv, xlsx }
}
