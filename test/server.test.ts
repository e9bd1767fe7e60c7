// The real server (`npm start`: bin/serve.js) as a child process: it starts, answers, and
// on SIGTERM or an uncaught error writes every log line before it exits.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { freshDatabase } from './helper.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Running { port: number, lines: () => Array<Record<string, any>>, exited: Promise<{ code: number | null, signal: string | null }>, kill: (signal: NodeJS.Signals) => void }

/** Starts the service on a fresh database and waits for its "ready" line. */
async function start (t: Test, nodeFlags: string[] = []): Promise<Running> {
  const fresh = await freshDatabase()
  // The service opens the database itself: the test's handle is closed first.
  await fresh.database.close()
  t.teardown(async () => { await fresh.drop().catch(() => {}) })
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SEED_ON_FIRST_START: 'false', DATABASE_URL: fresh.url ?? '', DATA_DIR: fresh.dataDir ?? '' }
  const child = spawn(process.execPath, [...nodeFlags, 'bin/serve.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const lines = () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  for (const deadline = Date.now() + 90_000; !lines().some((l) => l.msg === 'ready');) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the service did not start:\n${stdout}\n${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const port = Number(/:(\d+)$/.exec(lines().find((l) => /^Server listening at http:/.test(l.msg))!.msg)![1])
  return { port, lines, exited, kill: (signal) => child.kill(signal) }
}

/** `count` requests on one keep-alive connection, each with its own X-Request-Id; their statuses. */
async function requests (port: number, prefix: string, count: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  const one = (i: number) => new Promise<number>((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: '/v1/regions?limit=1', agent, headers: { 'x-request-id': `${prefix}-${i}` } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    }).on('error', reject)
  })
  const statuses = await Promise.all(Array.from({ length: count }, (_, i) => one(i)))
  agent.destroy()
  return statuses
}

const logged = (lines: Array<Record<string, any>>, prefix: string) =>
  lines.filter((l) => l.msg === 'request completed' && String(l.requestId).startsWith(`${prefix}-`)).length

t.test('SIGTERM: drains, exits 0, and every request line written before is in stdout', async (t) => {
  const service = await start(t)
  const statuses = await requests(service.port, 'term', 200)
  t.same([...new Set(statuses)], [200])
  service.kill('SIGTERM')
  const exit = await service.exited
  t.same(exit, { code: 0, signal: null })
  const lines = service.lines()
  t.equal(logged(lines, 'term'), 200, 'one line for each of the 200 requests answered before the signal')
  t.ok(lines.some((l) => l.msg === 'shutting down: draining requests, then closing the database' && l.signal === 'SIGTERM'))
})

t.test('an uncaught error: logged, the app closed, every line written, exit 1', async (t) => {
  // A test-only trigger loaded before the service: SIGWINCH throws from the event loop.
  const trigger = "process.on('SIGWINCH', () => setImmediate(() => { throw new Error('boom from the test') }))"
  const service = await start(t, ['--import', `data:text/javascript,${encodeURIComponent(trigger)}`])
  await requests(service.port, 'crash', 100)
  service.kill('SIGWINCH')
  const exit = await service.exited
  t.same(exit, { code: 1, signal: null })
  const lines = service.lines()
  t.equal(logged(lines, 'crash'), 100, 'every request line')
  const fatal = lines.find((l) => l.msg === 'uncaught error: shutting down')
  t.equal(fatal?.level, 60)
  t.equal(fatal?.err?.message, 'boom from the test')
})

t.test('an invalid configuration: the reason on stderr, exit 1', async (t) => {
  const child = spawn(process.execPath, ['bin/serve.js'], { cwd: root, env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'postgres://nowhere/none' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(stderr, /Invalid configuration:\s+PORT/)
})
