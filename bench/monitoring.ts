// Monitoring benchmark: latency of a province rollup of one indicator over five
// years and of a plan's progress, through HTTP, at 100,000 and at 10,000,000 values in
// the same run. Goal: each under 10 ms at the median, and at most 1.5x at 10M what it
// costs at 100k.
//
//   npm run bench:monitoring -- [--seconds 10] [--rounds 2] [--small 100000] [--large 10000000]
//
// The datasets come from bench/generate.ts (built on first use, then reused: the 10M one
// takes a few minutes). Each size is served by the real service (`node bin/serve.js`, the bundle
// `npm start` runs, as a child process: validation, response schemas, request logging at `info` into
// bench/results/server-*.log) on the local PostgreSQL server. One client sends sequential
// requests over a keep-alive connection; the rounds alternate between the sizes so both
// see the same machine conditions.
import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { parseArgs } from 'node:util'
import { BENCH_PLAN, benchIndicator, generate } from './generate.ts'
import { get as getOnce, SERVICE, startChild, stopChild, type Child } from './lib.ts'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    small: { type: 'string', default: '100000' },
    large: { type: 'string', default: '10000000' },
    server: { type: 'string', default: process.env.BENCH_SERVER ?? 'postgres://postgres@127.0.0.1:5432' }
  }
})
const seconds = Number(args.seconds)
const rounds = Number(args.rounds)
const results = new URL('./results/', import.meta.url)

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`)
const sizes = [Number(args.small), Number(args.large)].map((values) => ({ values, name: `bench_${label(values).toLowerCase()}` }))

const scenarios = [
  { name: 'province rollup, 1 indicator x 5 years', path: `/v1/regions/330000/rollup?indicator=${benchIndicator(1)}&from=2019&to=2023` },
  { name: 'plan progress (台州市 plan, 20 targets)', path: `/v1/plans/${BENCH_PLAN}/progress?asOf=2023` },
  // The scaling table: the ranking and the series read too.
  { name: 'ranking of a province\'s counties', path: `/v1/indicators/${benchIndicator(1)}/ranking?year=2023&within=330000` },
  { name: 'series read (a county, 1 indicator, 15 years)', path: `/v1/values?region=331003&indicator=${benchIndicator(1)}` }
]

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One GET over the shared keep-alive connection. */
const get = (port: number, path: string) => getOnce(port, path, agent)

/** Sequential requests for `ms` milliseconds; latencies in milliseconds. */
async function measure (port: number, path: string, ms: number): Promise<number[]> {
  const out: number[] = []
  const end = performance.now() + ms
  while (performance.now() < end) {
    const t0 = performance.now()
    const res = await get(port, path)
    out.push(performance.now() - t0)
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.body}`)
  }
  return out
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

await mkdir(results, { recursive: true })
const services: Array<Child & { name: string, requested: number, values: number }> = []
try {
  for (const size of sizes) {
    const { url, values } = await generate({ server: args.server, database: size.name, values: size.values })
    // Rate limiting stays on with a limit these sequential requests cannot reach.
    const service = await startChild(SERVICE, { DATABASE_URL: url, LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000000' }, `server-${size.name}`)
    services.push({ ...service, name: size.name, requested: size.values, values })
  }

  // Sanity: the same request answers the same shape on both datasets.
  for (const s of scenarios) {
    for (const svc of services) {
      const res = await get(svc.port, s.path)
      if (res.status !== 200) throw new Error(`${svc.name} ${s.path}: ${res.status} ${res.body}`)
      const body = JSON.parse(res.body) as { years?: Array<{ reportedCount: number }>, items?: Array<{ status?: string, rank?: number | null }> }
      if (s.path.startsWith('/v1/values') && (body.items?.length ?? 0) < 15) throw new Error(`${svc.name} ${s.path}: ${body.items?.length} values, expected 15 actuals (and targets)`)
      const shape = body.years !== undefined
        ? `${body.years.length} years, ${body.years[0]?.reportedCount ?? 0} regions reported in the first`
        : `${body.items?.length ?? 0} items, ${body.items?.filter((i) => i.status !== 'no-data' && i.rank !== null).length ?? 0} with data`
      console.error(`${svc.name}: ${s.path} -> ${shape}`)
    }
  }

  const latencies = new Map<string, number[]>()
  for (const s of scenarios) {
    for (const svc of services) await measure(svc.port, s.path, 1000) // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const svc of services) {
        const key = `${s.name}|${svc.name}`
        latencies.set(key, [...(latencies.get(key) ?? []), ...await measure(svc.port, s.path, (seconds * 1000) / rounds)])
      }
    }
  }

  const rows = scenarios.map((s) => {
    const [small, large] = services.map((svc) => {
      const l = [...latencies.get(`${s.name}|${svc.name}`)!].sort((a, b) => a - b)
      return { requests: l.length, median: quantile(l, 0.5), p99: quantile(l, 0.99) }
    })
    return { scenario: s.name, path: s.path, small: small!, large: large!, ratioMedian: large!.median / small!.median, ratioP99: large!.p99 / small!.p99 }
  })

  const [a, b] = services.map((svc) => label(svc.requested))
  const fmt = (n: number) => n.toFixed(2).padStart(7)
  console.log(`\nMonitoring benchmark: sequential requests over one keep-alive connection, ${seconds} s per figure (${rounds} alternating rounds)`)
  console.log(`datasets: ${services.map((s) => `${s.name} (${s.values} actuals)`).join(', ')}\n`)
  console.log(`| scenario | ${a} median ms | ${a} p99 ms | ${b} median ms | ${b} p99 ms | ratio median | ratio p99 | goal (median < 10 ms, ratio <= 1.5) |`)
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const r of rows) {
    const ok = r.small.median < 10 && r.large.median < 10 && r.ratioMedian <= 1.5
    console.log(`| ${r.scenario} | ${fmt(r.small.median)} | ${fmt(r.small.p99)} | ${fmt(r.large.median)} | ${fmt(r.large.p99)} | ${fmt(r.ratioMedian)} | ${fmt(r.ratioP99)} | ${ok ? 'met' : 'MISSED'} |`)
  }
  await writeFile(new URL('monitoring.json', results), JSON.stringify({ at: new Date().toISOString(), seconds, rounds, datasets: services.map((s) => ({ name: s.name, values: s.values })), rows }, null, 2) + '\n')
  console.log('\nwritten to bench/results/monitoring.json')
} finally {
  agent.destroy()
  await Promise.all(services.map(stopChild))
}
