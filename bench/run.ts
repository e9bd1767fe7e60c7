// npm run bench: every benchmark in one run, one table.
//
//   npm run bench [-- --only import,monitoring,read,startup] [--quick]
//
// Runs, each as its own process against the local PostgreSQL server (BENCH_SERVER,
// default postgres://postgres@127.0.0.1:5432):
//   import      bench/import.ts      bulk import of 1,000,000 values against COPY
//   monitoring  bench/monitoring.ts  rollup, progress, ranking and series reads at 100k and 10M values
//   read        bench/read-path.ts   the service against a bare route at 5M values, conditional and
//                                    in-process cached reads, its memory, CSV and xlsx exports
//   startup     bench/startup.ts     embedded start: first start and restart
// then prints one table (each figure, its baseline measured in the same run, the ratio and
// the goal) on stdout, and writes it as JSON to bench/results/bench-<time>.json and
// bench/results/latest.json. Progress and the parts' own output go to stderr.
// --quick shortens every part (3 s load runs, one round, 100,000 imported values): for
// trying the bench, not for figures.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { log, machine, resultsDir, root, writeResult } from './lib.ts'

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'import,monitoring,read,startup' },
    quick: { type: 'boolean', default: false }
  }
})
const parts = new Set(args.only!.split(',').map((p) => p.trim()))
const quick = args.quick === true

const commands: Array<{ part: string, script: string, argv: string[], result: string }> = [
  { part: 'import', script: 'bench/import.ts', argv: quick ? ['--values', '100000', '--rounds', '1'] : ['--values', '1000000'], result: 'import' },
  { part: 'monitoring', script: 'bench/monitoring.ts', argv: quick ? ['--seconds', '2', '--rounds', '1'] : [], result: 'monitoring' },
  { part: 'read', script: 'bench/read-path.ts', argv: quick ? ['--seconds', '3', '--rounds', '1'] : [], result: 'read-path' },
  { part: 'startup', script: 'bench/startup.ts', argv: quick ? ['--runs', '1'] : [], result: 'startup' }
]

const startedAt = new Date()
const before = await machine()
log(`machine: ${before.cpus} CPUs (${before.cpuModel}), ${before.memoryGiB} GiB, ${before.postgres}, Node ${before.node}, load ${before.loadAverage.join(' ')}`)

const results: Record<string, any> = {}
const failures: string[] = []
for (const c of commands) {
  if (!parts.has(c.part)) continue
  log(`--- ${c.part}: node --import tsx ${c.script} ${c.argv.join(' ')}`)
  const t0 = performance.now()
  // The part's stdout (its own table) goes to our stderr: stdout carries only the summary.
  const child = spawn(process.execPath, ['--import', 'tsx', c.script, ...c.argv], { cwd: root, stdio: ['ignore', 2, 2] })
  const [code] = await once(child, 'exit') as [number | null]
  log(`--- ${c.part}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${Math.round((performance.now() - t0) / 1000)} s`)
  if (code !== 0) {
    failures.push(c.part)
    continue
  }
  const data = JSON.parse(await readFile(`${resultsDir}${c.result}.json`, 'utf8')) as { at: string }
  if (new Date(data.at) < startedAt) {
    failures.push(c.part)
    continue
  }
  results[c.part] = data
}
const after = await machine()

interface Row {
  group: string
  figure: string
  unit: string
  value: number
  baselineName: string
  baseline: number | null
  ratio: number | null
  goal: string
  met: boolean | null
}
const rows: Row[] = []
const add = (r: Omit<Row, 'ratio'> & { ratio?: number | null }) => rows.push({ ...r, ratio: r.ratio ?? (r.baseline !== null && r.baseline !== 0 ? r.value / r.baseline : null) })

if (results.import !== undefined) {
  const i = results.import.results
  const copy = i.COPY.rowsPerSecond
  const n = Number(results.import.values).toLocaleString('en')
  add({ group: 'import', figure: `import ${n} values, 1 stream`, unit: 'rows/s', value: i['import, 1 stream'].rowsPerSecond, baselineName: 'COPY into an empty copy of the table', baseline: copy, goal: 'ratio >= 1.00', met: i['import, 1 stream'].rowsPerSecond / copy >= 1 })
  add({ group: 'import', figure: `import ${n} values, 2 streams`, unit: 'rows/s', value: i['import, 2 streams'].rowsPerSecond, baselineName: 'COPY into an empty copy of the table', baseline: copy, goal: 'ratio >= 1.50', met: i['import, 2 streams'].rowsPerSecond / copy >= 1.5 })
}

if (results.monitoring !== undefined) {
  const m = results.monitoring
  const [small, large] = m.datasets.map((d: { values: number }) => `${Math.round(d.values / 100_000) / 10}M`.replace(/^0\.1M$/, '100k'))
  for (const r of m.rows) {
    const tenMs = /rollup|progress/.test(r.scenario)
    add({
      group: 'scaling',
      figure: `${r.scenario}: median at ${large}`,
      unit: 'ms',
      value: r.large.median,
      baselineName: `the same request at ${small}`,
      baseline: r.small.median,
      goal: tenMs ? 'ratio <= 1.5, < 10 ms' : 'ratio <= 1.5',
      met: r.ratioMedian <= 1.5 && (!tenMs || (r.large.median < 10 && r.small.median < 10))
    })
  }
}

if (results.read !== undefined) {
  const rp = results.read
  for (const r of rp.reads) {
    const what = r.scenario === 'series' ? 'series read (~15 rows)' : 'point read'
    add({ group: 'read path', figure: `${what}: service`, unit: 'req/s', value: r.service.rps, baselineName: 'bare Fastify + prepared pg, same SQL', baseline: r.bare.rps, goal: 'ratio >= 0.90', met: r.ratioRps >= 0.9 })
    add({ group: 'read path', figure: `${what}: service p99`, unit: 'ms', value: r.service.p99, baselineName: 'bare route p99', baseline: r.bare.p99, goal: 'ratio <= 1.30', met: r.ratioP99 <= 1.3 })
  }
  const series = rp.reads.find((r: { scenario: string }) => r.scenario === 'series')
  if (rp.cached !== undefined && series !== undefined) {
    const c = rp.cached.conditional
    add({ group: 'cached read', figure: 'series read, unchanged, If-None-Match (304): service', unit: 'req/s', value: c.rps, baselineName: 'bare Fastify + prepared pg, same SQL, full answer', baseline: series.bare.rps, goal: 'ratio >= 2.00', met: c.ratioRpsToBare >= 2 })
    add({ group: 'cached read', figure: 'series read, unchanged, If-None-Match (304): service p99', unit: 'ms', value: c.p99, baselineName: 'bare route p99', baseline: series.bare.p99, goal: 'ratio <= 1.00', met: c.ratioP99ToBare <= 1 })
    add({ group: 'cached read', figure: 'series read, unchanged, If-None-Match (304), against the full answer', unit: 'req/s', value: c.rps, baselineName: 'the service\'s full answer of the same series', baseline: series.service.rps, goal: '', met: null })
    const m = rp.cached.memory
    add({ group: 'cached read', figure: 'series read from the in-process cache: service', unit: 'req/s', value: m.rps, baselineName: 'bare Fastify + prepared pg, same SQL', baseline: series.bare.rps, goal: 'ratio >= 2.00', met: m.ratioRpsToBare >= 2 })
    add({ group: 'cached read', figure: 'series read from the in-process cache: service p99', unit: 'ms', value: m.p99, baselineName: 'bare route p99', baseline: series.bare.p99, goal: 'ratio <= 1.00', met: m.ratioP99ToBare <= 1 })
  }
  add({ group: 'memory', figure: `service RSS under the read load (${rp.connections} connections)`, unit: 'MB', value: rp.memory.serviceUnderLoadMaxMB, baselineName: 'bare route RSS under the same load', baseline: rp.memory.bareUnderLoadMaxMB, goal: '<= 250 MB', met: rp.memory.serviceUnderLoadMaxMB <= 250 })
  for (const [format, e] of [['CSV', rp.export], ['xlsx', rp.exportXlsx]] as const) {
    if (e === undefined || e === null) continue
    const n = Number(e.rows).toLocaleString('en')
    add({ group: 'memory', figure: `${format} export of ${n} values: peak RSS`, unit: 'MB', value: e.rssMaxMB, baselineName: 'RSS before the export', baseline: e.rssBeforeMB, goal: 'grows < 50 MB', met: e.rssGrowthMB < 50 })
    add({ group: 'memory', figure: `${format} export of ${n} values: time`, unit: 's', value: e.ms / 1000, baselineName: 'COPY (same query) TO STDOUT', baseline: e.copyMs / 1000, goal: '', met: null })
  }
}

if (results.startup !== undefined) {
  const s = results.startup
  add({ group: 'embedded start', figure: 'restart, data present: `npm start` to 200 /health/ready (median)', unit: 's', value: s.restartViaNpm.ms / 1000, baselineName: 'PGlite alone reopens the folder (own process)', baseline: s.baseline.pgliteReopenMs / 1000, goal: '<= 2 s', met: s.restartViaNpm.ms <= 2000 })
  add({ group: 'embedded start', figure: 'restart without npm (`node bin/serve.js`, median)', unit: 's', value: s.restart.ms / 1000, baselineName: 'PGlite alone reopens the folder (own process)', baseline: s.baseline.pgliteReopenMs / 1000, goal: '', met: null })
  add({ group: 'embedded start', figure: 'restart from the sources through tsx (before the bundle)', unit: 's', value: s.restartTsx.ms / 1000, baselineName: 'the bundled restart', baseline: s.restart.ms / 1000, goal: '', met: null })
  add({ group: 'embedded start', figure: 'first start: create, migrate, seed, 200 /health/ready', unit: 's', value: s.firstStart.ms / 1000, baselineName: 'PGlite alone creates a folder (own process)', baseline: s.baseline.pgliteCreateMs / 1000, goal: '<= 15 s', met: s.firstStart.ms <= 15_000 })
  add({ group: 'embedded start', figure: 'peak RSS (VmHWM), first start', unit: 'MB', value: s.firstStart.peakRssMB, baselineName: '', baseline: null, goal: 'report', met: null })
  add({ group: 'embedded start', figure: 'peak RSS (VmHWM), restart', unit: 'MB', value: s.restart.peakRssMB, baselineName: '', baseline: null, goal: 'report', met: null })
}

const fmt = (n: number | null, unit = '') => {
  if (n === null) return ''
  const digits = unit === 'ms' || unit === 's' ? 2 : unit === 'MB' ? 0 : 0
  return n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}
const lines = [
  `Benchmarks ${startedAt.toISOString()}: ${before.cpus} CPUs (${before.cpuModel}), ${before.memoryGiB} GiB RAM, ${before.postgres}, Node ${before.node}; load average ${before.loadAverage.join('/')} before, ${after.loadAverage.join('/')} after`,
  '',
  '| group | figure | value | baseline (same run) | ratio | goal | met |',
  '| --- | --- | ---: | --- | ---: | --- | --- |',
  ...rows.map((r) => `| ${r.group} | ${r.figure} | ${fmt(r.value, r.unit)} ${r.unit} | ${r.baseline === null ? '' : `${fmt(r.baseline, r.unit)} ${r.unit} (${r.baselineName})`} | ${r.ratio === null ? '' : r.ratio.toFixed(2)} | ${r.goal} | ${r.met === null ? '' : r.met ? 'yes' : '**no**'} |`)
]
if (failures.length > 0) lines.push('', `not measured (failed or skipped by an error): ${failures.join(', ')}`)
console.log(lines.join('\n'))

const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
const summary = { machine: { ...before, loadAverageAfter: after.loadAverage }, rows, failures, parts: results }
await writeResult(`bench-${stamp}`, summary)
await writeResult('latest', summary)
log(`written to bench/results/bench-${stamp}.json and bench/results/latest.json`)
if (failures.length > 0) process.exitCode = 1
