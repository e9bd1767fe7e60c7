// Embedded start: from starting the service to a 200 from /health/ready,
// on the embedded database (PGlite) in a fresh data folder.
//
//   node --import tsx bench/startup.ts [--runs 3]
//
// - first start: the folder is empty, so the service creates the database, applies the
//   migrations and loads the seed dataset (goal <= 15 s, with a log line saying so);
// - restart: the same folder again, data present (goal <= 2 s), median of --runs;
// - the same restart through `npm start`, as a newcomer types it (npm adds its own start);
// - the same restart from the sources through tsx (what `npm start` ran before the bundle).
// The service is spawned as `npm start` runs it (`node bin/serve.js`: the esbuild bundle,
// built once before the measurements), timed from spawn to the first 200, and its peak RSS
// (VmHWM) read from /proc before it is stopped. Baselines, measured in
// the same run: a process that only creates, or only reopens, the same kind of folder
// with PGlite and answers `select 1` (bench/pglite-open.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, get, log, median, memoryOf, resultsDir, root, writeResult } from './lib.ts'

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '3' } } })
const RUNS = Number(args.runs)

const env = () => {
  const e: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DATABASE_URL' && k !== 'DATA_DIR') e[k] = v
  return e
}

interface Start { ms: number, peakRssMB: number, log: string[] }

/** Spawns the service, polls /health/ready every 25 ms, and stops it once it answers 200. */
async function start (dataDir: string, name: string, viaNpm = false, script = 'bin/serve.js'): Promise<Start> {
  const port = await freePort()
  const logFile = `${resultsDir}${name}.log`
  const fd = openSync(logFile, 'w')
  const t0 = performance.now()
  const child: ChildProcess = viaNpm
    ? spawn('npm', ['start', '--silent'], { cwd: root, env: { ...env(), DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd], detached: true })
    : spawn(process.execPath, script.endsWith('.js') ? [script] : ['--import', 'tsx', script], { cwd: root, env: { ...env(), DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name}: the service exited (${child.exitCode}); see ${logFile}`)
      try {
        if ((await get(port, '/health/ready')).status === 200) break
      } catch {}
      if (performance.now() - t0 > 120_000) throw new Error(`${name}: not ready after 120 s`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const ms = performance.now() - t0
    // Under npm the service is npm's grandchild: its memory is that of the node process serving.
    const pid = viaNpm ? serverPid(child.pid!) : child.pid!
    const peakRssMB = memoryOf(pid).hwm
    return { ms, peakRssMB, log: readFileSync(logFile, 'utf8').trim().split('\n') }
  } finally {
    const exited = once(child, 'exit')
    if (viaNpm) process.kill(-child.pid!, 'SIGTERM')
    else child.kill('SIGTERM')
    await exited
    if (viaNpm) await new Promise((resolve) => setTimeout(resolve, 500)) // the group's node process drains
  }
}

/** The node process below an npm process (npm -> sh -> node, or npm -> node). */
function serverPid (npmPid: number): number {
  const children = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    } catch {
      return []
    }
  }
  const queue = [npmPid]
  while (queue.length > 0) {
    const pid = queue.shift()!
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (cmd.includes('serve.js') || cmd.includes('server.')) return pid
    queue.push(...children(pid))
  }
  return npmPid
}

/** bench/pglite-open.ts: milliseconds from spawn to its "ready" line. */
async function pgliteOpen (dataDir: string): Promise<number> {
  const t0 = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/pglite-open.ts', dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  let ms: number | undefined
  child.stdout!.on('data', (c: Buffer) => { if (ms === undefined && c.toString().includes('ready')) ms = performance.now() - t0 })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0 || ms === undefined) throw new Error(`pglite-open exited with ${code}`)
  return ms
}

// The bundle npm start serves, built now so that no measured start includes a rebuild.
const built = spawn(process.execPath, ['bin/serve.js', '--build'], { cwd: root, stdio: 'inherit' })
if ((await once(built, 'exit'))[0] !== 0) throw new Error('bin/serve.js --build failed')

const base = await mkdtemp(path.join(os.tmpdir(), 'registry-start-'))
try {
  const dataDir = path.join(base, 'data')
  log(`embedded start in ${dataDir}`)
  const first = await start(dataDir, 'start-first')
  const says = first.log.map((l) => (JSON.parse(l) as { msg: string }).msg)
  if (!says.some((m) => /first start/.test(m))) throw new Error('the first start does not say what it is doing')
  log(`first start: ${(first.ms / 1000).toFixed(2)} s, peak RSS ${first.peakRssMB.toFixed(0)} MB`)

  const restarts: Start[] = []
  for (let i = 0; i < RUNS; i++) {
    restarts.push(await start(dataDir, 'start-again'))
    log(`restart ${i + 1}: ${(restarts[i]!.ms / 1000).toFixed(2)} s, peak RSS ${restarts[i]!.peakRssMB.toFixed(0)} MB`)
  }
  const npmRuns: Start[] = []
  for (let i = 0; i < RUNS; i++) npmRuns.push(await start(dataDir, 'start-npm', true))
  const npm = { ms: median(npmRuns.map((r) => r.ms)), peakRssMB: Math.max(...npmRuns.map((r) => r.peakRssMB)) }
  log(`restart through npm start: ${(npm.ms / 1000).toFixed(2)} s (median)`)

  const tsxRuns: number[] = []
  for (let i = 0; i < RUNS; i++) tsxRuns.push((await start(dataDir, 'start-tsx', false, 'src/server.ts')).ms)
  log(`restart from the sources through tsx: ${(median(tsxRuns) / 1000).toFixed(2)} s`)

  const createBaseline = await pgliteOpen(path.join(base, 'bare'))
  const reopenBaseline: number[] = []
  for (let i = 0; i < RUNS; i++) reopenBaseline.push(await pgliteOpen(path.join(base, 'bare')))
  log(`PGlite alone: create ${(createBaseline / 1000).toFixed(2)} s, reopen ${(median(reopenBaseline) / 1000).toFixed(2)} s`)

  await writeResult('startup', {
    firstStart: { ms: first.ms, peakRssMB: first.peakRssMB, log: says },
    restart: { ms: median(restarts.map((r) => r.ms)), runs: restarts.map((r) => r.ms), peakRssMB: Math.max(...restarts.map((r) => r.peakRssMB)) },
    restartViaNpm: { ms: npm.ms, peakRssMB: npm.peakRssMB },
    restartTsx: { ms: median(tsxRuns), runs: tsxRuns },
    baseline: { pgliteCreateMs: createBaseline, pgliteReopenMs: median(reopenBaseline), runs: reopenBaseline }
  })
} finally {
  await rm(base, { recursive: true, force: true })
}
