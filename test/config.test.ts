import t from 'tap'
import { ConfigError, appOptionsOf, loadConfig, replicaOptionsOf } from '../src/config.ts'

t.test('the environment becomes the options of the app\'s plugins', async (t) => {
  const config = loadConfig({
    CORS_ORIGINS: 'https://dpf.zj.gov.cn, https://example.org',
    RATE_LIMIT_MAX: '5',
    RATE_LIMIT_WINDOW_MS: '2000',
    RATE_LIMIT_ALLOW: '10.0.0.7',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    READS_REQUIRE_TOKEN: 'true',
    REDIS_URL: 'redis://:secret@cache.internal:6379/2',
    REDIS_KEY_PREFIX: 'registry-zj:',
    IDEMPOTENCY_WAIT_MS: '5000',
    CACHE_MAX_AGE: '0',
    CACHE_STALE_WHILE_REVALIDATE: '120',
    CACHE_MEMORY_MB: '0'
  })
  t.same(appOptionsOf(config), {
    auth: { readsRequireToken: true, pepper: undefined },
    rateLimit: { max: 5, windowMs: 2000, allow: ['10.0.0.7'], redis: { url: 'redis://:secret@cache.internal:6379/2', prefix: 'registry-zj:' } },
    cors: { origins: ['https://dpf.zj.gov.cn', 'https://example.org'] },
    loadShedding: { maxEventLoopDelayMs: 0 },
    imports: { idempotencyWaitMs: 5000 },
    caching: { maxAge: 0, staleWhileRevalidate: 120, memoryBytes: 0 }
  })
  t.same(appOptionsOf(loadConfig({})), {
    auth: { readsRequireToken: false, pepper: undefined },
    rateLimit: { max: 1200, windowMs: 60_000, allow: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] },
    cors: { origins: [] },
    loadShedding: { maxEventLoopDelayMs: 1000 },
    imports: { idempotencyWaitMs: 30_000 },
    caching: { maxAge: 10, staleWhileRevalidate: 30, memoryBytes: 16 * 2 ** 20 }
  }, 'the defaults: no Redis (each process counts on its own)')
})

t.test('a bad value stops the start with the variable named', async (t) => {
  let thrown: unknown
  try {
    loadConfig({ RATE_LIMIT_MAX: '-1' })
  } catch (err) {
    thrown = err
  }
  t.ok(thrown instanceof ConfigError)
  t.match((thrown as Error).message, /RATE_LIMIT_MAX: must be >= 0/)
  t.throws(() => loadConfig({ PORT: 'eighty' }), { message: /PORT/ })
  t.throws(() => loadConfig({ REDIS_URL: 'cache.internal:6379' }), { message: /REDIS_URL/ })
})

t.test('read replicas: a list of connection strings beside DATABASE_URL, checked at start', async (t) => {
  const primary = 'postgres://app:secret@db-primary:5432/registry'
  const config = loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://app:secret@db-r1/registry, postgresql://app:secret@db-r2:6432/registry', REPLICA_MAX_LAG_MS: '2000' })
  t.same(replicaOptionsOf(config), {
    urls: ['postgres://app:secret@db-r1/registry', 'postgresql://app:secret@db-r2:6432/registry'],
    poolMax: 10,
    maxLagMs: 2000,
    maxLagBytes: 0,
    checkIntervalMs: 1000
  })
  t.equal(replicaOptionsOf(loadConfig({ DATABASE_URL: primary })), undefined, 'none by default')
  t.throws(() => loadConfig({ DATABASE_READ_URL: 'postgres://db-r1/registry' }), { message: /DATABASE_READ_URL: replicas need DATABASE_URL/ }, 'not with the embedded database')
  t.throws(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'mysql://db-r1/registry' }), { message: /DATABASE_READ_URL/ })
  t.throws(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://db-r1/registry,' }), { message: /DATABASE_READ_URL/ }, 'an empty entry')
  let thrown: unknown
  try {
    loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://app:secret@db r1:x/registry' })
  } catch (err) {
    thrown = err
  }
  t.match((thrown as Error).message, /DATABASE_READ_URL: not a connection string/)
  t.notMatch((thrown as Error).message, /secret/, 'the password is not shown')
  t.throws(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: 'postgres://db-r1/registry', REPLICA_MAX_LAG_MS: '0' }), { message: /REPLICA_MAX_LAG_MS/ })
})
