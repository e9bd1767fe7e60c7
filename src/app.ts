import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from './db/client.ts'
import changesRoutes from './modules/changes/changes.routes.ts'
import healthRoutes from './modules/health/health.routes.ts'
import importsRoutes from './modules/imports/imports.routes.ts'
import indicatorsRoutes from './modules/indicators/indicators.routes.ts'
import plansRoutes from './modules/plans/plans.routes.ts'
import progressRoutes from './modules/progress/progress.routes.ts'
import rankingRoutes from './modules/ranking/ranking.routes.ts'
import regionsRoutes from './modules/regions/regions.routes.ts'
import rollupRoutes from './modules/rollup/rollup.routes.ts'
import valuesRoutes from './modules/values/values.routes.ts'
import tokensRoutes from './modules/tokens/tokens.routes.ts'
import { logRequest } from './lib/request-log.ts'
import auth, { type AuthOptions } from './plugins/auth.ts'
import dashboard from './plugins/dashboard.ts'
import database from './plugins/database.ts'
import metrics from './plugins/metrics.ts'
import hardening, { defaultHardening, type HardeningOptions } from './plugins/hardening.ts'
import openapi from './plugins/openapi.ts'
import problemDetails from './plugins/problem-details.ts'
import validation from './plugins/validation.ts'

export interface AppOptions {
  database: Database
  /** Access control settings (default: reads public, pepper kept in the database). */
  auth?: AuthOptions
  /** Rate limits, CORS and load shedding (default: see defaultHardening). */
  hardening?: HardeningOptions
}

/** The whole service as one plugin; server.ts and the tests register it the same way. */
async function app (fastify: FastifyInstance, opts: AppOptions) {
  await fastify.register(validation)
  await fastify.register(problemDetails)
  await fastify.register(database, { database: opts.database })
  // The embedded database runs its queries on this thread (WebAssembly), so event-loop lag
  // measures the database's own work there, not overload: shedding is for PostgreSQL.
  const hardeningOptions = opts.hardening ?? defaultHardening
  await fastify.register(hardening, opts.database.driver === 'pglite' ? { ...hardeningOptions, maxEventLoopDelayMs: 0 } : hardeningOptions)
  await fastify.register(openapi)
  await fastify.register(metrics)
  await fastify.register(auth, opts.auth ?? { readsRequireToken: false })

  // PATCH bodies may also be sent as RFC 7396 merge patches (application/merge-patch+json):
  // the hardening plugin parses them as JSON, with the same checks.

  // JSON is the only body format besides the ones declared per route: a text/plain body
  // would otherwise reach validation as a string and get a confusing 400 instead of 415.
  fastify.removeContentTypeParser('text/plain')

  // Callback hooks, not async ones: they run on every request (issue #7, read path). The
  // request id is set on arrival (headers set then are kept by every answer, errors
  // included), so no onSend hook has to run for each response.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  // One log line per request, once it is answered, with the request and the outcome
  // (Fastify's own request logging, turned off in options.ts, writes two: on arrival and
  // on completion). Routes with a higher logLevel (probes, /metrics) are not logged.
  fastify.addHook('onResponse', (request, reply, done) => {
    logRequest(request, reply)
    done()
  })

  await fastify.register(healthRoutes)
  await fastify.register(dashboard)
  await fastify.register(async (v1) => {
    await v1.register(regionsRoutes)
    await v1.register(indicatorsRoutes)
    await v1.register(plansRoutes)
    await v1.register(valuesRoutes)
    await v1.register(importsRoutes)
    await v1.register(changesRoutes)
    await v1.register(tokensRoutes)
    await v1.register(progressRoutes)
    await v1.register(rollupRoutes)
    await v1.register(rankingRoutes)
  }, { prefix: '/v1' })
}

export default fp(app, { name: 'indicator-registry' })
