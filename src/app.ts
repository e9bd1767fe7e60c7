import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from './db/client.ts'
import changesRoutes from './modules/changes/changes.routes.ts'
import healthRoutes from './modules/health/health.routes.ts'
import importsRoutes from './modules/imports/imports.routes.ts'
import type { ImportsServiceOptions } from './modules/imports/imports.service.ts'
import indicatorsRoutes from './modules/indicators/indicators.routes.ts'
import plansRoutes from './modules/plans/plans.routes.ts'
import progressRoutes from './modules/progress/progress.routes.ts'
import rankingRoutes from './modules/ranking/ranking.routes.ts'
import regionsRoutes from './modules/regions/regions.routes.ts'
import rollupRoutes from './modules/rollup/rollup.routes.ts'
import valuesRoutes from './modules/values/values.routes.ts'
import tokensRoutes from './modules/tokens/tokens.routes.ts'
import auth, { type AuthOptions } from './plugins/auth.ts'
import bodyParsing from './plugins/body-parsing.ts'
import caching, { defaultCaching, type CachingOptions } from './plugins/caching.ts'
import cors, { defaultCors, type CorsOptions } from './plugins/cors.ts'
import dashboard from './plugins/dashboard.ts'
import database from './plugins/database.ts'
import draining from './plugins/draining.ts'
import loadShedding, { defaultLoadShedding, type LoadSheddingOptions } from './plugins/load-shedding.ts'
import metrics from './plugins/metrics.ts'
import openapi from './plugins/openapi.ts'
import problemDetails from './plugins/problem-details.ts'
import readRouting from './plugins/read-routing.ts'
import rateLimit, { defaultRateLimit, type RateLimitOptions } from './plugins/rate-limit.ts'
import securityHeaders from './plugins/security-headers.ts'
import validation from './plugins/validation.ts'

export interface AppOptions {
  database: Database
  /** Access control settings (default: reads public, pepper kept in the database). */
  auth?: AuthOptions
  /** Per-client request limit (default: defaultRateLimit). */
  rateLimit?: RateLimitOptions
  /** Origins allowed by CORS (default: none). */
  cors?: CorsOptions
  /** Event-loop lag past which requests are shed (default: defaultLoadShedding). */
  loadShedding?: LoadSheddingOptions
  /** Bulk import settings (default: a retry waits IDEMPOTENCY_WAIT_MS for an earlier request with its key). */
  imports?: ImportsServiceOptions
  /** How long shared caches may keep public reads (default: defaultCaching). */
  caching?: Omit<CachingOptions, 'readsRequireToken'>
}

/** The whole service as one plugin; server.ts and the tests register it the same way. */
async function app (fastify: FastifyInstance, opts: AppOptions) {
  await fastify.register(validation)
  await fastify.register(problemDetails)
  await fastify.register(database, { database: opts.database })
  // Where a request's reads go (request.readDb), settled on arrival. Registered before the
  // plugins that open contexts of their own (the documentation's), so their requests are
  // decorated too.
  await fastify.register(readRouting)
  await fastify.register(securityHeaders)

  // Callback hooks, not async ones: they run on every request. The request id is set on
  // arrival (headers set then are kept by every answer, errors included), so no onSend
  // hook has to run for each response.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  // Before the rest: a request that arrives while draining is answered at once.
  await fastify.register(draining)
  await fastify.register(cors, opts.cors ?? defaultCors)
  await fastify.register(rateLimit, opts.rateLimit ?? defaultRateLimit)
  // The embedded database runs its queries on this thread (WebAssembly), so event-loop lag
  // measures the database's own work there, not overload: shedding is for PostgreSQL.
  await fastify.register(loadShedding, opts.database.driver === 'pglite' ? { maxEventLoopDelayMs: 0 } : opts.loadShedding ?? defaultLoadShedding)
  await fastify.register(bodyParsing)
  await fastify.register(openapi)
  await fastify.register(metrics)
  await fastify.register(auth, opts.auth ?? { readsRequireToken: false })
  // Before the routes: it equips those that opt in as they are declared (onRoute).
  await fastify.register(caching, { ...(opts.caching ?? defaultCaching), readsRequireToken: opts.auth?.readsRequireToken ?? false })

  await fastify.register(healthRoutes)
  await fastify.register(dashboard)
  await fastify.register(async (v1) => {
    await v1.register(regionsRoutes)
    await v1.register(indicatorsRoutes)
    await v1.register(plansRoutes)
    await v1.register(valuesRoutes)
    await v1.register(importsRoutes, opts.imports ?? {})
    await v1.register(changesRoutes)
    await v1.register(tokensRoutes)
    await v1.register(progressRoutes)
    await v1.register(rollupRoutes)
    await v1.register(rankingRoutes)
  }, { prefix: '/v1' })
}

export default fp(app, { name: 'indicator-registry' })
