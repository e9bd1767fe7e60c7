import t from 'tap'
import { ConfigError, appOptionsOf, loadConfig } from '../src/config.ts'

t.test('the environment becomes the options of the app\'s plugins', async (t) => {
  const config = loadConfig({
    CORS_ORIGINS: 'https://dpf.zj.gov.cn, https://example.org',
    RATE_LIMIT_MAX: '5',
    RATE_LIMIT_WINDOW_MS: '2000',
    RATE_LIMIT_ALLOW: '10.0.0.7',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    READS_REQUIRE_TOKEN: 'true',
    CACHE_MAX_AGE: '0',
    CACHE_STALE_WHILE_REVALIDATE: '120',
    CACHE_MEMORY_MB: '0'
  })
  t.same(appOptionsOf(config), {
    auth: { readsRequireToken: true, pepper: undefined },
    rateLimit: { max: 5, windowMs: 2000, allow: ['10.0.0.7'] },
    cors: { origins: ['https://dpf.zj.gov.cn', 'https://example.org'] },
    loadShedding: { maxEventLoopDelayMs: 0 },
    caching: { maxAge: 0, staleWhileRevalidate: 120, memoryBytes: 0 }
  })
  t.same(appOptionsOf(loadConfig({})), {
    auth: { readsRequireToken: false, pepper: undefined },
    rateLimit: { max: 1200, windowMs: 60_000, allow: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] },
    cors: { origins: [] },
    loadShedding: { maxEventLoopDelayMs: 1000 },
    caching: { maxAge: 10, staleWhileRevalidate: 30, memoryBytes: 16 * 2 ** 20 }
  }, 'the defaults')
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
})
