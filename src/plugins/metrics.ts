import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ReadRouter, ReplicaState } from '../db/read-router.ts'
import { parseLsn } from '../db/wal-position.ts'
import { problems } from '../errors/problem.ts'

/** What an import reports; the counts feed `import_rows_total`. */
export interface ImportCounts { created: number, updated: number, unchanged: number, rejected: number }

export interface Metrics {
  /** Counts the rows of one executed (not dry-run, not replayed) import by outcome. */
  importRows: (counts: ImportCounts) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

// Process metrics (CPU, memory, event loop, GC, handles) belong to the process, not to one
// app: collected once into their own registry and merged into every scrape, so several
// apps in one process (the tests) neither clash on names nor start monitors twice.
let processRegistry: Registry | undefined
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * Each replica's state from the read router's last check, and what was routed where. The
 * router keeps its own totals (it counts where no request is at hand, as a failed read
 * inside a pool); the counters here take what was added since the last scrape.
 */
function replicaMetrics (registry: Registry, router: ReadRouter) {
  const gauge = (name: string, help: string, value: (s: ReplicaState) => number | null) => new Gauge({
    name,
    help,
    labelNames: ['replica'] as const,
    registers: [registry],
    collect () {
      for (const state of router.states()) {
        const v = value(state)
        if (v !== null) this.set({ replica: state.name }, v)
      }
    }
  })
  gauge('db_replica_up', '1 when the read replica answered its last check', (s) => (s.up ? 1 : 0))
  gauge('db_replica_usable', '1 when reads may go to the replica: up, replaying, and within REPLICA_MAX_LAG_MS / REPLICA_MAX_LAG_BYTES', (s) => (s.usable ? 1 : 0))
  gauge('db_replica_lag_seconds', 'Since when the primary has held WAL the replica had not replayed at its last check (0: caught up)', (s) => s.lagSeconds)
  gauge('db_replica_lag_bytes', 'WAL bytes the primary had flushed and the replica had not replayed at its last check', (s) => s.lagBytes)
  gauge('db_replica_replay_position_bytes', 'The WAL position the replica had replayed at its last check, as a byte offset', (s) => (s.replayPosition !== null ? Number(parseLsn(s.replayPosition)) : null))

  const counter = (name: string, help: string, label: string, totals: () => Record<string, number>) => {
    const seen: Record<string, number> = {}
    for (const key of Object.keys(totals())) seen[key] = 0
    return new Counter({
      name,
      help,
      labelNames: [label] as const,
      registers: [registry],
      collect () {
        for (const [key, total] of Object.entries(totals())) {
          this.inc({ [label]: key }, total - (seen[key] ?? 0))
          seen[key] = total
        }
      }
    })
  }
  counter('db_reads_total', 'Safe API requests (GET, HEAD) by the server chosen for their reads: primary or replica-<n>', 'server', () => router.counts().reads)
  counter('db_replica_fallbacks_total', 'Reads that failed on a replica (unreachable, connections cut) and were asked of the primary instead', 'replica', () => router.counts().fallbacks)
}

/**
 * Prometheus metrics at `GET /metrics` (text exposition format): request rate and latency
 * by route pattern, database pool, import rows and process metrics.
 */
export default fp(async (app) => {
  const registry = new Registry()

  const requests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status: latency histogram (its _count is the request count, so rate() of it is the request rate)',
    labelNames: ['method', 'route', 'status_code'] as const,
    // Up to 30 s: a bulk import of 100,000 rows takes seconds.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry]
  })

  const importRows = new Counter({
    name: 'import_rows_total',
    help: 'Rows of executed bulk imports (POST /v1/values/import) by outcome; dry runs and idempotent replays are not counted',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  for (const outcome of ['created', 'updated', 'unchanged', 'rejected']) importRows.inc({ outcome }, 0)

  const database = app.database
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'db_embedded',
    help: '1 when the service runs on the embedded database (PGlite, no pool), 0 on a PostgreSQL server',
    registers: [registry],
    collect () { this.set(database.driver === 'pglite' ? 1 : 0) }
  })
  if (database.poolStats !== undefined) {
    const stats = database.poolStats
    const poolGauge = (name: string, help: string, pick: (s: ReturnType<typeof stats>) => number) => new Gauge({
      name,
      help,
      registers: [registry],
      collect () { this.set(pick(stats())) }
    })
    poolGauge('db_pool_connections', 'Open connections in the PostgreSQL pool (idle and in use)', (s) => s.total)
    poolGauge('db_pool_idle_connections', 'Idle connections in the PostgreSQL pool', (s) => s.idle)
    poolGauge('db_pool_waiting_requests', 'Queries waiting for a connection from the PostgreSQL pool', (s) => s.waiting)
    poolGauge('db_pool_max_connections', 'Size limit of the PostgreSQL pool (DB_POOL_MAX)', (s) => s.max)
  }

  if (database.readRouter !== undefined) replicaMetrics(registry, database.readRouter)
  if (app.rateLimitStore.kind === 'redis') {
    const store = app.rateLimitStore
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'rate_limit_redis_connected',
      help: '1 while Redis (REDIS_URL) is reachable; 0 while it is not, when requests are let through without a rate limit',
      registers: [registry],
      collect () { this.set(store.connected() ? 1 : 0) }
    })
  }

  app.decorate('metrics', {
    importRows (counts: ImportCounts) {
      for (const outcome of ['created', 'updated', 'unchanged', 'rejected'] as const) {
        if (counts[outcome] > 0) importRows.inc({ outcome }, counts[outcome])
      }
    }
  } satisfies Metrics)

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: one series per route, whatever the ids.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })

  app.get('/metrics', {
    logLevel: 'warn',
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description: [
        'Metrics in the Prometheus text exposition format (version 0.0.4), for a scraper. Public, like the health probes.',
        '`http_request_duration_seconds{method,route,status_code}`: latency histogram by route pattern (its `_count` gives the request rate);',
        '`import_rows_total{outcome}`: rows of executed bulk imports by `created|updated|unchanged|rejected` (dry runs and replays are not counted);',
        '`db_embedded`: 1 on the embedded database; on PostgreSQL `db_pool_connections`, `db_pool_idle_connections`,',
        '`db_pool_waiting_requests` and `db_pool_max_connections`; with read replicas (DATABASE_READ_URL), per replica',
        '`db_replica_up`, `db_replica_usable`, `db_replica_lag_seconds`, `db_replica_lag_bytes` and `db_replica_replay_position_bytes`',
        '(from its last check), `db_reads_total{server}` (safe requests by the server chosen for their reads) and',
        '`db_replica_fallbacks_total{replica}` (reads retried on the primary after the replica failed);',
        'with `REDIS_URL`, `rate_limit_redis_connected` (0 while Redis is unreachable and requests are not rate limited);',
        'and the standard `process_*` and `nodejs_*` metrics.'
      ].join(' '),
      response: {
        200: {
          description: 'The metrics (Content-Type `text/plain; version=0.0.4; charset=utf-8`)',
          content: {
            'text/plain': {
              schema: {
                type: 'string',
                examples: ['# HELP import_rows_total Rows of executed bulk imports\n# TYPE import_rows_total counter\nimport_rows_total{outcome="created"} 1520\n']
              }
            }
          }
        },
        // Public like the probes: no token is needed and one sent is not looked at. Rate
        // limited like every route (a scraper's address can be allow-listed).
        ...problems(429)
      }
    }
  }, async (_request, reply) => {
    const merged = Registry.merge([processMetrics(), registry])
    return reply.type(registry.contentType).send(await merged.metrics())
  })
}, { name: 'metrics', dependencies: ['database', 'rate-limit'] })
