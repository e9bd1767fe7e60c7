// Embedded start (issue #7): from starting the service to a 200 from /health/ready,
// on the embedded database (PGlite) in a fresh data folder.
//
//   node --import tsx bench/startup.ts [--runs 3]
//
// - first start: the folder is empty, so the service creates the database, applies the
//   migrations and loads the seed dataset (goal <= 15 s, with a log line saying so);
// - restart: the same folder again, data present (goal <= 2 s), median of --runs;
// - the same restart through `npm start` once, as a newcomer types it.
// Each is spawned as `node --import tsx src/server.ts`, timed from spawn to the first 200,
// and its peak RSS (VmHWM) read from /proc before it is stopped. Baselines, measured in
// the same run: a process that only creates, or only reopens, the same kind of folder
// with PGlite and answers `select 1` (bench/pglite-open.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
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
async function start (dataDir: string, name: string, viaNpm = false, script = 'src/server.ts'): Promise<Start> {
  const port = await freePort()
  const logFile = `${resultsDir}${name}.log`
  const fd = openSync(logFile, 'w')
  const t0 = performance.now()
  const child: ChildProcess = viaNpm
    ? spawn('npm', ['start', '--silent'], { cwd: root, env: { ...env(), DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd], detached: true })
    : spawn(process.execPath, script.endsWith('.mjs') ? [script] : ['--import', 'tsx', script], { cwd: root, env: { ...env(), DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd] })
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

/**
 * What a build step would give: src/server.ts bundled by esbuild (tsx's own compiler) into
 * one file, run by plain node. Placed two folders deep beside links to migrations/, seed/
 * and node_modules/, where the service's relative paths expect them.
 */
async function bundle (base: string): Promise<string | undefined> {
  try {
    const esbuild = await import('esbuild')
    const dir = path.join(base, 'build')
    await mkdir(path.join(dir, 'src', 'db'), { recursive: true })
    for (const d of ['migrations', 'seed', 'node_modules']) await symlink(path.join(root, d), path.join(dir, d))
    const outfile = path.join(dir, 'src', 'db', 'server.mjs')
    await esbuild.build({
      entryPoints: [path.join(root, 'src/server.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      external: ['@electric-sql/pglite', '@fastify/swagger-ui', 'pg-native', 'pino', 'thread-stream'],
      banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
      logLevel: 'error'
    })
    return outfile
  } catch (err) {
    log(`no bundled variant: ${(err as Error).message}`)
    return undefined
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
    if (cmd.includes('server.')) return pid
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
  const npm = await start(dataDir, 'start-npm', true)
  log(`restart through npm start: ${(npm.ms / 1000).toFixed(2)} s`)

  const bundled = await bundle(base)
  const bundledRuns: number[] = []
  if (bundled !== undefined) {
    for (let i = 0; i < RUNS; i++) bundledRuns.push((await start(dataDir, 'start-bundled', false, bundled)).ms)
    log(`restart of a bundled build: ${(median(bundledRuns) / 1000).toFixed(2)} s`)
  }

  const createBaseline = await pgliteOpen(path.join(base, 'bare'))
  const reopenBaseline: number[] = []
  for (let i = 0; i < RUNS; i++) reopenBaseline.push(await pgliteOpen(path.join(base, 'bare')))
  log(`PGlite alone: create ${(createBaseline / 1000).toFixed(2)} s, reopen ${(median(reopenBaseline) / 1000).toFixed(2)} s`)

  await writeResult('startup', {
    firstStart: { ms: first.ms, peakRssMB: first.peakRssMB, log: says },
    restart: { ms: median(restarts.map((r) => r.ms)), runs: restarts.map((r) => r.ms), peakRssMB: Math.max(...restarts.map((r) => r.peakRssMB)) },
    restartViaNpm: { ms: npm.ms, peakRssMB: npm.peakRssMB },
    restartBundled: bundledRuns.length > 0 ? { ms: median(bundledRuns), runs: bundledRuns } : null,
    baseline: { pgliteCreateMs: createBaseline, pgliteReopenMs: median(reopenBaseline), runs: reopenBaseline }
  })
} finally {
  await rm(base, { recursive: true, force: true })
}
