import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { RateLimitOptions } from '../src/plugins/rate-limit.ts'
import { build, json } from './helper.ts'
import { redisOrSkip, uniquePrefix } from './redis.ts'

// The rate limit with REDIS_URL (one count for every instance) and without it (each
// process its own); what happens while Redis is away. Two apps in this process stand for
// two instances; test/instances.test.ts does the same with two service processes.

const limit = (redis?: RateLimitOptions['redis']): RateLimitOptions => ({ max: 3, windowMs: 60_000, allow: [], ...(redis !== undefined ? { redis } : {}) })

/** Two instances; requests carry no token, so both count them under the same client address. */
const instances = async (t: Parameters<typeof build>[0], options: RateLimitOptions) =>
  [await build(t, { auth: 'none', rateLimit: options }), await build(t, { auth: 'none', rateLimit: options })]

/** GET /v1/regions, alternating between the instances: the statuses in order. */
async function alternate (apps: FastifyInstance[], n: number): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < n; i++) statuses.push((await apps[i % apps.length]!.inject('/v1/regions')).statusCode)
  return statuses
}

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

// The probe and the scraper are clients too: from another address, they count apart.
const probe = (app: FastifyInstance, url: string) => app.inject({ url, remoteAddress: '192.0.2.1' })
const ready = async (app: FastifyInstance) => json(await probe(app, '/health/ready'))
const redisGauge = async (app: FastifyInstance) => /^rate_limit_redis_connected (\d)$/m.exec((await probe(app, '/metrics')).body)?.[1]

t.test('with Redis, the limit is one limit for every instance', async (t) => {
  const url = await redisOrSkip(t)
  if (url === undefined) return
  const apps = await instances(t, limit({ url, prefix: uniquePrefix() }))
  t.same(await alternate(apps, 5), [200, 200, 200, 429, 429], 'the 4th request overall is refused, whichever instance gets it')
  const refused = await apps[0]!.inject('/v1/regions')
  t.equal(json(refused).code, 'TOO_MANY_REQUESTS')
  t.ok(Number(refused.headers['retry-after']) >= 1)
  t.match(await ready(apps[0]!), { status: 'ok', redis: 'connected' })
  t.equal(await redisGauge(apps[1]!), '1')

  const elsewhere = await build(t, { auth: 'none', rateLimit: limit({ url, prefix: uniquePrefix() }) })
  t.equal((await elsewhere.inject('/v1/regions')).statusCode, 200, 'another prefix (another deployment) counts apart')
})

t.test('without Redis, each process counts on its own', async (t) => {
  const apps = await instances(t, limit())
  t.same(await alternate(apps, 8), [200, 200, 200, 200, 200, 200, 429, 429], 'three per instance')
  t.notOk('redis' in await ready(apps[0]!), 'readiness tells nothing of Redis')
  t.equal(await redisGauge(apps[0]!), undefined, 'no Redis metric')
})

t.test('an unreachable Redis: requests pass unlimited, readiness and metrics say so, the app starts and closes', async (t) => {
  const app = await build(t, { auth: 'none', rateLimit: limit({ url: `redis://127.0.0.1:${await freePort()}`, prefix: uniquePrefix() }) })
  t.same(await alternate([app], 5), [200, 200, 200, 200, 200], 'fail open')
  t.match(await ready(app), { status: 'ok', redis: 'unreachable' }, 'still ready')
  t.equal(await redisGauge(app), '0')
})

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server'

/** A Redis server of this test's own on `port` (stopped by the test). */
async function startRedis (port: number): Promise<ChildProcess> {
  const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited: ${output}`)
    if (output.includes('Ready to accept connections')) return proc
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function stopRedis (proc: ChildProcess) {
  if (proc.exitCode !== null) return
  proc.kill('SIGKILL')
  await new Promise((resolve) => proc.once('exit', resolve))
}

t.test('Redis stops and comes back: requests pass while it is away, the limit holds again after', async (t) => {
  if (!existsSync(REDIS_SERVER)) {
    const message = `no ${REDIS_SERVER} to start and stop (apt-get install redis-server, or set REDIS_SERVER)`
    if (process.env.CI === 'true') t.fail(message)
    else t.plan(0, message)
    return
  }
  const port = await freePort()
  let redis = await startRedis(port)
  t.teardown(() => stopRedis(redis))
  const app = await build(t, { auth: 'none', rateLimit: limit({ url: `redis://127.0.0.1:${port}`, prefix: uniquePrefix() }) })
  t.same(await alternate([app], 4), [200, 200, 200, 429])

  await stopRedis(redis)
  // Until the client has seen the connection go, a request may still find it open.
  while ((await ready(app)).redis !== 'unreachable') await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(await alternate([app], 4), [200, 200, 200, 200], 'fail open while Redis is away')
  t.equal(await redisGauge(app), '0')

  // A new, empty Redis on the same port: the client reconnects by itself.
  redis = await startRedis(port)
  while ((await ready(app)).redis !== 'connected') await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(await alternate([app], 4), [200, 200, 200, 429], 'limited again')
})
