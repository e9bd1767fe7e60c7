import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import type { AppOptions } from './app.ts'
import type { ReplicaOptions } from './db/read-router.ts'
import { IDEMPOTENCY_WAIT_MS } from './modules/imports/imports.idempotency.ts'

/**
 * The whole configuration as one schema: environment variables are validated (and
 * converted from strings) against it at boot, and the type comes from the schema.
 */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to listen on (0.0.0.0 in a container)' }),
  DATABASE_URL: Type.Optional(Type.String({
    pattern: '^postgres(ql)?://',
    description: 'PostgreSQL connection string; unset means the embedded database (PGlite) in DATA_DIR'
  })),
  DATABASE_READ_URL: Type.Optional(Type.String({
    pattern: '^\\s*postgres(ql)?://[^,]+(,\\s*postgres(ql)?://[^,]+)*$',
    description: 'Comma-separated PostgreSQL connection strings of streaming replicas of DATABASE_URL; safe reads may go to them'
  })),
  REPLICA_MAX_LAG_MS: Type.Integer({ minimum: 1, default: 5000, description: 'A replica further behind the primary than this is skipped (reads go elsewhere)' }),
  REPLICA_MAX_LAG_BYTES: Type.Integer({ minimum: 0, default: 0, description: 'A replica more WAL bytes behind the primary than this is skipped; 0: no bound on bytes' }),
  REPLICA_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'Connections in each replica\'s pool' }),
  REPLICA_CHECK_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000, description: 'How often each replica\'s state and lag are checked' }),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'Folder of the embedded database (ignored with DATABASE_URL)' }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'Connections in the PostgreSQL pool' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest accepted request body in bytes (bulk import has its own limit)' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 120_000, description: 'Longest time to receive a whole request (slow clients are cut off)' }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 130_000, description: 'Socket inactivity timeout' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'Fastify trustProxy: false, true, a hop count, or comma-separated addresses/CIDRs of the proxies in front' }),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins allowed by CORS (`*` for any); empty: no CORS' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 1200, description: 'Requests per client (token, else address) per window; 0 turns it off' }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000, description: 'Rate-limit window' }),
  RATE_LIMIT_ALLOW: Type.String({ default: '127.0.0.1,::1,::ffff:127.0.0.1', description: 'Comma-separated client addresses never rate limited' }),
  REDIS_URL: Type.Optional(Type.String({
    pattern: '^rediss?://',
    description: 'Redis connection string (redis://[user:password@]host:6379[/db]); set: the rate limit is counted in Redis, one limit for every instance; unset: each process counts on its own'
  })),
  REDIS_KEY_PREFIX: Type.String({ default: 'indicator-registry:', description: 'Prefix of the keys the service writes in Redis (deployments sharing one Redis need different prefixes)' }),
  IDEMPOTENCY_WAIT_MS: Type.Integer({ minimum: 0, default: IDEMPOTENCY_WAIT_MS, description: 'Longest time a bulk import waits for an earlier request with its Idempotency-Key (on any instance) to finish before answering 503' }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Shed load with 503 when the event loop lags more than this; 0: off' }),
  SEED_ON_FIRST_START: Type.Boolean({ default: true, description: 'Load the seed dataset when the embedded database is created' }),
  READS_REQUIRE_TOKEN: Type.Boolean({ default: false, description: 'Require a bearer token (any role) for reads too' }),
  CACHE_MAX_AGE: Type.Integer({ minimum: 0, maximum: 31_536_000, default: 10, description: 'Seconds a shared cache (proxy, CDN) or browser may serve a public read without asking again; 0: it revalidates every time' }),
  CACHE_STALE_WHILE_REVALIDATE: Type.Integer({ minimum: 0, maximum: 31_536_000, default: 30, description: 'Seconds past CACHE_MAX_AGE a cache may still serve a public read while it revalidates it in the background' }),
  CACHE_MEMORY_MB: Type.Integer({ minimum: 0, maximum: 4096, default: 16, description: 'Megabytes of serialized answers of lists, progress, rollups and rankings kept in the process; 0: none' }),
  TOKEN_PEPPER: Type.Optional(Type.String({ minLength: 32, description: 'Key of the token hash; unset means one is generated and kept in the database' })),
  BOOTSTRAP_ADMIN_TOKEN: Type.Optional(Type.String({ pattern: '^irt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$', description: 'Registers this token as an admin token at start if it is not known yet (the first admin of a fresh install)' }))
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s !== '')

/** TRUST_PROXY as Fastify takes it. */
export function trustProxyOf (config: Pick<Config, 'TRUST_PROXY'>): boolean | number | string[] {
  const v = config.TRUST_PROXY.trim()
  if (v === 'false' || v === '') return false
  if (v === 'true') return true
  if (/^[0-9]+$/.test(v)) return Number(v)
  return list(v)
}

/** The read replicas to open beside the primary, or undefined when none are configured. */
export type ReplicaConfig = Pick<Config, 'DATABASE_READ_URL' | 'REPLICA_POOL_MAX' | 'REPLICA_MAX_LAG_MS' | 'REPLICA_MAX_LAG_BYTES' | 'REPLICA_CHECK_INTERVAL_MS'>

export function replicaOptionsOf (config: ReplicaConfig): ReplicaOptions | undefined {
  if (config.DATABASE_READ_URL === undefined) return undefined
  return {
    urls: list(config.DATABASE_READ_URL),
    poolMax: config.REPLICA_POOL_MAX,
    maxLagMs: config.REPLICA_MAX_LAG_MS,
    maxLagBytes: config.REPLICA_MAX_LAG_BYTES,
    checkIntervalMs: config.REPLICA_CHECK_INTERVAL_MS
  }
}

/** Rules across variables, which the schema cannot state. */
function crossProblems (config: Config): string[] {
  const problems: string[] = []
  if (config.DATABASE_READ_URL !== undefined) {
    if (config.DATABASE_URL === undefined) problems.push('DATABASE_READ_URL: replicas need DATABASE_URL (the primary they replicate); the embedded database has none')
    for (const url of list(config.DATABASE_READ_URL)) {
      // The credentials stay out of the message (it goes to the terminal and the logs).
      if (!URL.canParse(url)) problems.push(`DATABASE_READ_URL: not a connection string: ${url.replace(/\/\/[^@/]*@/, '//…@')}`)
    }
  }
  return problems
}

/** The options of the app's plugins that come from the configuration (src/app.ts). */
export function appOptionsOf (config: Config) {
  return {
    auth: { readsRequireToken: config.READS_REQUIRE_TOKEN, pepper: config.TOKEN_PEPPER },
    rateLimit: {
      max: config.RATE_LIMIT_MAX,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      allow: list(config.RATE_LIMIT_ALLOW),
      ...(config.REDIS_URL !== undefined ? { redis: { url: config.REDIS_URL, prefix: config.REDIS_KEY_PREFIX } } : {})
    },
    cors: { origins: list(config.CORS_ORIGINS) },
    loadShedding: { maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS },
    imports: { idempotencyWaitMs: config.IDEMPOTENCY_WAIT_MS },
    caching: { maxAge: config.CACHE_MAX_AGE, staleWhileRevalidate: config.CACHE_STALE_WHILE_REVALIDATE, memoryBytes: config.CACHE_MEMORY_MB * 2 ** 20 }
  } satisfies Omit<AppOptions, 'database'>
}

export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const raw = env[key]
    if (raw !== undefined && raw !== '') input[key] = raw
  }
  // Convert turns "3000" into 3000 and "false" into false; Default fills what is unset.
  const candidate = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, input))
  const problems = Value.Check(ConfigSchema, candidate)
    ? crossProblems(candidate as Config)
    : [...Value.Errors(ConfigSchema, candidate)].map((e) => `${e.instancePath.replace(/^\//, '') || '(root)'}: ${e.message}`)
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`)
  return candidate as Config
}
