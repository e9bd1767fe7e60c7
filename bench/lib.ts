// Helpers shared by the benchmarks: child processes of the service, their memory, the
// machine they ran on, and load runs in a process of their own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { LoadResult, LoadSpec } from './load.ts'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Db } from '../src/db/client.ts'
import { schema } from '../src/db/schema.ts'
import { createValuesRepository } from '../src/modules/values/values.repository.ts'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
export const DEFAULT_SERVER = process.env.BENCH_SERVER ?? 'postgres://postgres@127.0.0.1:5432'

export const log = (...m: unknown[]) => console.error('[bench]', ...m)

/**
 * The statements the service prepares for a series read (`GET /v1/values?region=&indicator=`,
 * totals, first page) and a point read (`GET /v1/values/{id}`), text for text: taken from the
 * values repository itself, run on a pool whose query() only records what it is sent, so
 * bench/bare.ts runs exactly what the service runs.
 */
export async function serviceStatements (): Promise<{ series: string, point: string }> {
  const pool = new pg.Pool({ connectionString: 'postgres://bench@127.0.0.1:1/none' })
  const sent: string[] = []
  pool.query = (async (query: { text: string }) => {
    sent.push(query.text)
    return { rows: [] }
  }) as never
  const values = createValuesRepository(drizzle(pool, { schema }) as unknown as Db)
  await values.list({ region: '331003', indicator: 'hardship-subsidy-coverage', breakdown: {}, limit: 100 })
  await values.get(1)
  await pool.end()
  if (sent.length !== 2) throw new Error(`expected two statements from the values repository, got ${sent.length}`)
  return { series: sent[0]!, point: sent[1]! }
}

export async function writeResult (name: string, data: unknown): Promise<void> {
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${resultsDir}${name}.json`, JSON.stringify({ at: new Date().toISOString(), ...data as object }, null, 2) + '\n')
}

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** One GET, body read whole. */
export function get (port: number, path: string, agent?: http.Agent): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc. */
export function memoryOf (pid: number): { rss: number, hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function cpuMsOf (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Samples a process's RSS every `ms` until stopped; returns the largest and the samples. */
export function sampleRss (pid: number, ms = 100) {
  const samples: number[] = []
  const take = () => { try { samples.push(memoryOf(pid).rss) } catch {} }
  take()
  const timer = setInterval(take, ms)
  return {
    stop () {
      clearInterval(timer)
      take()
      return { max: Math.max(...samples), min: Math.min(...samples), last: samples[samples.length - 1]!, samples: samples.length }
    }
  }
}

export interface Child { child: ChildProcess, port: number, pid: number, logFile: string }

/**
 * The service as it is deployed: `npm start` and the container run `node bin/serve.js`, the
 * esbuild bundle of src/ (not the TypeScript sources through tsx, whose keepNames wrappers
 * alone cost some 10% of the CPU of an import), with the Node flags of package.json's start
 * script. Built once before the first measurement so no start pays for it. Extra Node flags
 * (e.g. `--cpu-prof`) can be added in BENCH_NODE_FLAGS. BENCH_SERVICE_ROOT runs the service of
 * another checkout (its bundle, its start flags) against this checkout's baselines, so two
 * versions of the service are measured against the same limit.
 */
export const SERVICE = 'bin/serve.js'
const serviceRoot = process.env.BENCH_SERVICE_ROOT ?? root
let built = false
export function serviceArgs (): string[] {
  if (!built) {
    execFileSync(process.execPath, [SERVICE, '--build'], { cwd: serviceRoot, stdio: 'inherit' })
    built = true
  }
  const start = (JSON.parse(readFileSync(path.join(serviceRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/)
  if (start[0] !== 'node' || start.at(-1) !== SERVICE) throw new Error(`package.json's start script is not "node [flags] ${SERVICE}"`)
  return [...start.slice(1, -1), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), SERVICE]
}

/**
 * Starts a Node process with its stdout and stderr going straight to a log file (no pipe
 * through this process), and waits until `readyPath` answers 200. `script` is the service
 * (SERVICE: its bundle) or a TypeScript file, run through tsx.
 */
export async function startChild (script: string, env: Record<string, string | undefined>, name: string, readyPath = '/health/ready', timeoutMs = 120_000): Promise<Child> {
  await mkdir(resultsDir, { recursive: true })
  const port = await freePort()
  const logFile = `${resultsDir}${name}.log`
  const fd = openSync(logFile, 'w')
  const child = spawn(process.execPath, script === SERVICE ? serviceArgs() : ['--import', 'tsx', script], {
    cwd: script === SERVICE ? serviceRoot : root,
    env: { ...process.env, HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', fd, fd]
  })
  closeSync(fd)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}); see ${logFile}`)
    try {
      if ((await get(port, readyPath)).status === 200) return { child, port, pid: child.pid!, logFile }
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not get ready; see ${logFile}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function stopChild (c: Child | { child: ChildProcess }): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return
  const exited = once(c.child, 'exit')
  c.child.kill('SIGTERM')
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

/** One autocannon run in a separate process (bench/load.ts). */
export async function runLoad (spec: LoadSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', JSON.stringify(spec)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString('utf8') })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`load process exited with ${code}`)
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult
}

export function databaseUrl (server: string, database: string): string {
  const url = new URL(server)
  url.pathname = `/${database}`
  return url.toString()
}

export async function query<T extends pg.QueryResultRow> (url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  postgres: string
  loadAverage: number[]
}

export async function machine (server = DEFAULT_SERVER): Promise<Machine> {
  const [row] = await query<{ version: string }>(databaseUrl(server, 'postgres'), 'select version()')
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    postgres: row!.version.split(' on ')[0]!,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100)
  }
}

/** Median of a list of numbers. */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
