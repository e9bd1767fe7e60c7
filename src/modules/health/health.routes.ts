import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sendProblem } from '../../errors/problem.ts'
import { ApiError } from '../../errors/catalogue.ts'
import { problems } from '../../errors/problem.ts'

const Health = Type.Object({
  status: Type.Enum(['ok']),
  database: Type.Optional(Type.Enum(['pg', 'pglite'])),
  redis: Type.Optional(Type.Enum(['connected', 'unreachable'], {
    description: 'With REDIS_URL only: whether the shared rate-limit store answers. Unreachable does not make the instance unready: requests are then let through without a rate limit.'
  }))
}, { additionalProperties: false, examples: [{ status: 'ok', database: 'pg', redis: 'connected' }] })

/**
 * A probe answers fast or not at all: a database that takes longer than this to answer
 * (frozen, or no connection to be had) is away, so readiness answers 503 instead of
 * hanging until the prober gives up.
 */
const READY_TIMEOUT_MS = 2000

function within<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('readiness check timed out')), ms) })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // One database check at a time: probes arriving while one still waits on a frozen
  // database share it instead of each holding a pool connection.
  let checking: Promise<boolean> | undefined
  const check = () => {
    checking ??= (async () => {
      await app.database.ping()
      return app.database.migrationsApplied()
    })().finally(() => { checking = undefined })
    return checking
  }

  app.get('/health/live', {
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      operationId: 'live',
      summary: 'Liveness probe',
      description: 'Answers 200 while the process serves HTTP; it does not touch the database.',
      response: { 200: Health }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      operationId: 'ready',
      summary: 'Readiness probe',
      description: `Answers 200 when the database answers and every migration is applied; 503 problem+json otherwise (also when the database takes more than ${READY_TIMEOUT_MS / 1000} s to answer), so a load balancer stops sending traffic. With \`REDIS_URL\` set, \`redis\` tells whether the shared rate-limit store answers; an unreachable Redis leaves the instance ready (requests are then not rate limited).`,
      response: { 200: Health, ...problems() }
    }
  }, async (request, reply) => {
    let migrated: boolean
    try {
      migrated = await within(check(), READY_TIMEOUT_MS)
    } catch {
      return sendProblem(reply, request, new ApiError('DATABASE_UNAVAILABLE', 'The database does not answer.', { headers: { 'retry-after': '2' } }))
    }
    if (!migrated) {
      return sendProblem(reply, request, new ApiError('SERVICE_UNAVAILABLE', 'Database migrations are not applied yet.', { headers: { 'retry-after': '2' } }))
    }
    const store = app.rateLimitStore
    return {
      status: 'ok' as const,
      database: app.database.driver,
      ...(store.kind === 'redis' ? { redis: store.connected() ? 'connected' as const : 'unreachable' as const } : {})
    }
  })
}

export default healthRoutes
